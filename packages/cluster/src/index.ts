export { type Cluster, type ClusterOptions, startCluster } from "./cluster.js";
export { freePort } from "./free-port.js";
export { type NginxOptions, type NginxProcess, localNginxConfig, renderNginxSite, startNginx } from "./nginx.js";
export { apiNodeFlags } from "./node-flags.js";
export { nginxBinary, nginxTemplatePath, repoRoot } from "./paths.js";
export { cpuClockResolutionMs, machineBusyMs, ProcessCpuClock } from "./proc-cpu.js";
export { parentPid, processTree, treeCpuMs, treeRssKb } from "./proc-tree.js";
export { type ApiReplicaOptions, type Replica, type ReplicaHandle, type ReplicaSpec, type ReplicaStarter, apiReplicaStarter, startReplica } from "./replica.js";
export {
  type Schema,
  type ServiceUrls,
  type StartedServices,
  createSchema,
  parseExports,
  postgresPid,
  redisCommand,
  redisPid,
  servicesFromEnv,
  startServices,
} from "./services.js";
export { type TestCluster, type TestClusterOptions, clusterAvailability, inCi, startTestCluster } from "./test-cluster.js";
