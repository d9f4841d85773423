import type { RunRecord } from '../store/runs.ts';

/** What the engine publishes while it runs: a record was created or changed state. */
export type EngineEvent = { type: 'run.created'; run: RunRecord } | { type: 'run.updated'; run: RunRecord };

/** Receives engine events (the CLI's live view, NDJSON output, later the API's SSE stream). */
export type EngineListener = (event: EngineEvent) => void;
