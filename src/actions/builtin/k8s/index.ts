export {
  K8S_NAME_PATTERN,
  kubeCall,
  kubeconfigFiles,
  kubeError,
  kubeErrorLine,
  loadKubeConfig,
} from './client.ts';
export { type EventsInput, k8sEventsAction } from './events.ts';
export { k8sPodLogsAction, type PodLogsInput } from './pod-logs.ts';
export { k8sScaleAction, type ScaleInput, type ScaleOutput } from './scale.ts';
