/** Names of keys (and inputs) whose values are secrets: password, api_key, clientSecret, credentials, … */
export const SECRET_KEY =
  /(?:passw(?:or)?d|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|authorization|credentials?)$/i;
