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
  DVM_STORE_TOO_NEW: { exit: 1, http: 500, summary: 'The store was written by a newer dvm.' },
  DVM_STORE_CORRUPT: { exit: 1, http: 500, summary: 'The store could not be read.' },
  DVM_NODE_VERSION: { exit: 1, http: 500, summary: 'dvm needs a newer Node.js.' },
  DVM_INTERNAL: { exit: 1, http: 500, summary: 'A bug in dvm; please report it.' },
} as const;

/** A stable error code of dvm's taxonomy. */
export type ErrorCode = keyof typeof ERROR_CODES;
