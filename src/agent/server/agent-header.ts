/**
 * The header every answer of the agent API carries (its API version): a client tells the agent from another server
 * at that address (a web server, a proxy's own error page) by it.
 */
export const AGENT_HEADER = 'dvm-agent';

/** The value of AGENT_HEADER: the API's major version. */
export const AGENT_HEADER_VALUE = 'v1';
