/** Stable error codes, one per reason; each maps to an exit status and an HTTP status for the API. */
export const ERROR_CODES = {
  DVM_USAGE: { exit: 2, http: 400, summary: 'The command line is not valid.' },
  DVM_YAML_SYNTAX: { exit: 1, http: 400, summary: 'A file is not valid YAML.' },
  DVM_SCHEMA_INVALID: { exit: 1, http: 422, summary: 'An object does not match the schema of its kind.' },
  DVM_KIND_UNKNOWN: { exit: 1, http: 400, summary: 'No kind has this name.' },
  DVM_API_VERSION: { exit: 1, http: 400, summary: 'The apiVersion does not serve this kind.' },
  DVM_NOT_FOUND: { exit: 1, http: 404, summary: 'No object has this name in the scope asked for.' },
  DVM_ALREADY_EXISTS: { exit: 1, http: 409, summary: 'An object with this name already exists.' },
  DVM_AMBIGUOUS: { exit: 1, http: 409, summary: 'A name matches objects in more than one scope.' },
  DVM_SCOPE_REQUIRED: { exit: 1, http: 400, summary: 'An object needs a parent scope that was not given.' },
  DVM_REF_NOT_FOUND: { exit: 1, http: 422, summary: 'A reference names an object that does not exist.' },
  DVM_DAG_CYCLE: { exit: 1, http: 422, summary: 'dependsOn edges form a cycle.' },
  DVM_SEED_ORDER: { exit: 1, http: 422, summary: 'A DataLake seedOrder names a store it does not contain.' },
  DVM_TEMPLATE_MISMATCH: {
    exit: 1,
    http: 422,
    summary: "A Template's targetKind differs from the object's kind.",
  },
  DVM_DUPLICATE: { exit: 1, http: 422, summary: 'The same object appears twice in one apply.' },
  DVM_CONFLICT: { exit: 1, http: 409, summary: 'The object changed since the resourceVersion given.' },
  DVM_IN_USE: { exit: 1, http: 409, summary: 'Other objects reference or contain this one.' },
  DVM_INVALID: { exit: 1, http: 422, summary: 'Several problems were found; each cause has its own code.' },
  DVM_FILE_NOT_FOUND: { exit: 1, http: 400, summary: 'A file or directory given with -f does not exist.' },
  DVM_NO_OBJECTS: { exit: 1, http: 400, summary: 'The files given with -f hold no objects.' },
  DVM_STORE_TOO_NEW: { exit: 1, http: 500, summary: 'The store was written by a newer dvm.' },
  DVM_STORE_CORRUPT: { exit: 1, http: 500, summary: 'The store could not be read.' },
  DVM_STORE_UNAVAILABLE: {
    exit: 1,
    http: 503,
    summary:
      'A database cannot be written (disk full, I/O error, a lock held too long); try again once it is fixed.',
  },
  DVM_INPUT_TOO_LARGE: {
    exit: 1,
    http: 413,
    summary: 'An input file or stdin is larger than dvm reads (64 MiB).',
  },
  DVM_IO_ERROR: {
    exit: 1,
    http: 500,
    summary:
      'The machine refused a file operation (permissions, a full disk, a file where a directory should be).',
  },
  DVM_NODE_VERSION: { exit: 1, http: 500, summary: 'dvm needs a newer Node.js.' },
  DVM_EXEC_SHELL_SYNTAX: {
    exit: 1,
    http: 422,
    summary: 'A command string uses shell features (pipes, &&, $VAR, …) without `shell:`.',
  },
  DVM_EXEC_NOT_FOUND: { exit: 1, http: 422, summary: 'The program a command names does not exist.' },
  DVM_WORKDIR_NOT_FOUND: { exit: 1, http: 422, summary: 'A working directory does not exist.' },
  DVM_TASK_FAILED: { exit: 1, http: 422, summary: 'A task ended with a failure (non-zero exit).' },
  DVM_TIMEOUT: { exit: 1, http: 504, summary: 'A run or task took longer than its timeout.' },
  DVM_CANCELLED: { exit: 1, http: 409, summary: 'A run was cancelled.' },
  DVM_ACTION_UNKNOWN: { exit: 1, http: 404, summary: 'No action has this name (and version).' },
  DVM_ACTION_INPUT_INVALID: { exit: 1, http: 422, summary: "An action's input does not match its schema." },
  DVM_NOTIFY_NOT_CONFIGURED: { exit: 1, http: 422, summary: 'A notification target has no URL configured.' },
  DVM_NOTIFY_FAILED: { exit: 1, http: 502, summary: 'A notification could not be delivered.' },
  DVM_GIT_FAILED: { exit: 1, http: 502, summary: 'A git command failed.' },
  DVM_RESULT_REF: {
    exit: 1,
    http: 422,
    summary: 'A $(tasks.NAME.results.RESULT) reference names no such task or result.',
  },
  DVM_RESULT_TOO_LARGE: {
    exit: 1,
    http: 422,
    summary: 'A task wrote a result larger than results may be (100 KiB).',
  },
  DVM_CRON_INVALID: { exit: 1, http: 422, summary: 'A cron schedule does not parse, or never fires.' },
  DVM_TRIGGER_INVALID: {
    exit: 1,
    http: 422,
    summary: "A Job's trigger cannot be armed (unsupported event or watch, App without a path).",
  },
  DVM_RUN_NOT_FOUND: { exit: 1, http: 404, summary: 'No run has this id.' },
  DVM_AGENT_STOPPING: {
    exit: 1,
    http: 503,
    summary:
      'The agent is stopping and takes no new requests (it closes the connection); send the request again once it is back.',
  },
  DVM_AGENT_BUSY: {
    exit: 1,
    http: 503,
    summary:
      'The agent holds as many connections as config.yaml agent.limits.connections allows, or the client address as many as agent.limits.connections_per_address allows it, each busy: this one is answered and closed; send the request again after Retry-After.',
  },
  DVM_CONNECTOR_UNAVAILABLE: {
    exit: 1,
    http: 503,
    summary: 'A connector (Docker daemon, Kubernetes API, JVM tools) cannot be reached.',
  },
  DVM_TARGET_NOT_FOUND: {
    exit: 1,
    http: 404,
    summary: 'The container, pod, deployment or JVM an action targets does not exist.',
  },
  DVM_UNAUTHENTICATED: {
    exit: 1,
    http: 401,
    summary: 'The request has no valid token (missing, unknown, expired or revoked).',
  },
  DVM_FORBIDDEN: {
    exit: 1,
    http: 403,
    summary: 'Policy denies this action to this principal on this target.',
  },
  DVM_CONFIRMATION_REQUIRED: {
    exit: 1,
    http: 428,
    summary: 'The action needs a confirmation token; the answer carries the challenge.',
  },
  DVM_CONFIRMATION_INVALID: {
    exit: 1,
    http: 403,
    summary: 'A confirmation token is unknown, expired, used, bound to another request, or self-approved.',
  },
  DVM_IDEMPOTENCY_CONFLICT: {
    exit: 1,
    http: 409,
    summary: 'A request_id was reused with a different payload.',
  },
  DVM_POLICY_INVALID: { exit: 1, http: 422, summary: 'A Cedar policy file does not parse or validate.' },
  DVM_AUDIT_TAMPERED: {
    exit: 1,
    http: 500,
    summary:
      'The audit hash chain is broken: an entry was changed or removed, or entries are missing at the end.',
  },
  DVM_EXECUTION_NOT_FOUND: { exit: 1, http: 404, summary: 'No execution has this id.' },
  DVM_EXECUTION_INTERRUPTED: {
    exit: 1,
    http: 500,
    summary: 'The process running an execution died before it finished; it was not retried.',
  },
  DVM_TOO_MANY_RUNNING: {
    exit: 1,
    http: 429,
    summary: 'The agent, or this principal, already runs as many follows as config.yaml agent.limits allows.',
  },
  DVM_RATE_LIMITED: {
    exit: 1,
    http: 429,
    summary: 'This principal sends more requests a second than config.yaml agent.limits allows.',
  },
  DVM_TOO_MANY_STREAMS: {
    exit: 1,
    http: 429,
    summary:
      'The agent already sends as many event streams as config.yaml agent.limits.streams allows, or this principal holds as many as agent.limits.streams_per_principal allows; one frees when a stream ends.',
  },
  DVM_HOST_NOT_ALLOWED: {
    exit: 1,
    http: 421,
    summary:
      'The Host header names neither this agent (localhost, a loopback address, the address it listens on) nor a name of config.yaml agent.allowed_hosts.',
  },
  DVM_EXECUTION_ENDED: {
    exit: 1,
    http: 409,
    summary: 'The execution already ended (details.status): there is nothing to cancel.',
  },
  DVM_EXECUTION_ELSEWHERE: {
    exit: 1,
    http: 409,
    summary:
      'The execution runs in another process (details.pid): only that process can stop it (Ctrl-C a `dvm action run`, or its `dvm serve`).',
  },
  DVM_REQUEST_INVALID: { exit: 1, http: 422, summary: 'A request body does not match the API schema.' },
  DVM_REQUEST_MALFORMED: {
    exit: 1,
    http: 400,
    summary:
      'A request could not be read: its body is not a JSON object, its URL is not valid, or it is not HTTP/1.1.',
  },
  DVM_REQUEST_TOO_LARGE: { exit: 1, http: 413, summary: 'A request body is larger than the server accepts.' },
  DVM_HEADERS_TOO_LARGE: {
    exit: 1,
    http: 431,
    summary: 'The request headers are larger than the server reads.',
  },
  DVM_REQUEST_TIMEOUT: { exit: 1, http: 408, summary: 'A request did not arrive in full in time.' },
  DVM_REQUEST_FORBIDDEN_KEY: {
    exit: 1,
    http: 400,
    summary: 'A request body has a __proto__ key or a constructor.prototype (prototype poisoning).',
  },
  DVM_EVENT_ID_INVALID: {
    exit: 1,
    http: 400,
    summary: 'Last-Event-ID (or last_event_id) is not an event id: a decimal integer.',
  },
  DVM_REQUEST_TOO_DEEP: {
    exit: 1,
    http: 400,
    summary: 'A request body nests objects and arrays deeper than the server accepts.',
  },
  DVM_QUERY_INVALID: {
    exit: 1,
    http: 400,
    summary: 'A query parameter is unknown, repeated, or its value is not valid.',
  },
  DVM_ROUTE_NOT_FOUND: { exit: 1, http: 404, summary: 'No API route has this method and path.' },
  DVM_TOKEN_INVALID: { exit: 1, http: 422, summary: 'A token name, role or ttl is not valid.' },
  DVM_DATA_TARGET: {
    exit: 1,
    http: 422,
    summary: "A DataStore's target cannot be seeded (no dependencyRef, or an engine not supported yet).",
  },
  DVM_BACKUP_FAILED: { exit: 1, http: 500, summary: "A backup or restore of a dependency's data failed." },
  DVM_DATA_INVALID: { exit: 1, http: 422, summary: "A record does not match its DataStore's schema." },
  DVM_DATA_VERIFY_FAILED: {
    exit: 1,
    http: 422,
    summary: 'data.verify found counts or constraints that do not hold.',
  },
  DVM_HEALTH_FAILED: {
    exit: 1,
    http: 503,
    summary: 'A health check kept failing after its start period and retries.',
  },
  DVM_PORT_IN_USE: { exit: 1, http: 409, summary: 'A port an instance needs is held by another process.' },
  DVM_RUNTIME_SPEC: {
    exit: 1,
    http: 422,
    summary: 'A service cannot run on the chosen runtime (no command, no image).',
  },
  DVM_BINARY_NOT_FOUND: { exit: 1, http: 422, summary: 'A host binary a service needs is not installed.' },
  DVM_RUNTIME_START: { exit: 1, http: 500, summary: 'The runtime could not start a service.' },
  DVM_IMAGE_UNAVAILABLE: {
    exit: 1,
    http: 422,
    summary: 'A container image is not on the engine and cannot be pulled.',
  },
  DVM_DEPENDENCY_INIT: { exit: 1, http: 500, summary: 'An init or setup step of a dependency failed.' },
  DVM_INTERNAL: { exit: 1, http: 500, summary: 'A bug in dvm; please report it.' },
} as const;

/** A stable error code of dvm's taxonomy. */
export type ErrorCode = keyof typeof ERROR_CODES;
