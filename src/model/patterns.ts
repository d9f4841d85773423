/** Object names: lowercase letters, digits, '-', '.', '_' (a DNS-style name). */
export const NAME_PATTERN = '^[a-z0-9]([-a-z0-9._]*[a-z0-9])?$';

/** Durations like 500ms, 30s, 5m, 1h30m or 7d. */
export const DURATION_PATTERN = '^([0-9]+(ms|s|m|h|d))+$';
