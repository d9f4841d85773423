export { dockerClient, dockerError, dockerTarget } from './connection.ts';
export { LogDemuxer, type LogLine } from './frames.ts';
export { CONTAINER_PATTERN, type DockerLogsInput, type DockerLogsSummary, dockerLogsAction } from './logs.ts';
export { type DockerRestartInput, type DockerRestartOutput, dockerRestartAction } from './restart.ts';
