import type { NotifyConfig } from '../actions/action.ts';
import { readHomeConfig, withConfigLine } from '../service/home-config.ts';
import { loadNotifyConfig } from '../service/run/run-service.ts';
import { type AgentSettings, readAgentSettings } from './agent-settings.ts';
import { loadRedactor, type Redactor } from './redact.ts';

/** What a dvm home's config.yaml gives its agent: the redactor (`redact:`), the webhooks (`notify:`) and `agent:`. */
export interface AgentConfig {
  redactor: Redactor;
  /** How many `redact.patterns` of the home's own the redactor has (besides the defaults). */
  patterns: number;
  notify: NotifyConfig;
  settings: AgentSettings;
}

/**
 * Reads and checks the agent's sections of config.yaml together (the file is parsed once); a bad value is an error
 * naming the file, path and line, and nothing is returned.
 */
export async function readAgentConfig(home: string, env: NodeJS.ProcessEnv): Promise<AgentConfig> {
  try {
    const patterns = (await readHomeConfig(home)).redact as { patterns?: unknown[] } | undefined;
    return {
      redactor: await loadRedactor(home),
      patterns: patterns?.patterns?.length ?? 0,
      notify: await loadNotifyConfig(home, env),
      settings: await readAgentSettings(home),
    };
  } catch (error) {
    throw await withConfigLine(error, home);
  }
}
