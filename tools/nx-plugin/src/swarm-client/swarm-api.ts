import type Docker from 'dockerode';
import { demultiplexLogs } from '../docker/docker-engine';
import type { SwarmServiceSpec } from '../manifests/swarm-service';

/**
 * A service's update as Swarm reports it (`Service.UpdateStatus`, Engine API v1.41). Absent on a service
 * never updated. `rollback_*` states follow a failed update (`FailureAction: rollback`) or an explicit
 * `rollback=previous`.
 */
export interface SwarmUpdateStatus {
  State?: 'updating' | 'paused' | 'completed' | 'rollback_started' | 'rollback_paused' | 'rollback_completed';
  StartedAt?: string;
  CompletedAt?: string;
  Message?: string;
}

/** A Swarm service as `GET /services/{id}` returns it (the fields the deploy reads). */
export interface SwarmService {
  ID: string;
  /** The object version: every update must name it (optimistic concurrency). */
  Version: { Index: number };
  CreatedAt: string;
  UpdatedAt: string;
  /** The spec as stored: what was sent, plus the defaults the daemon fills in. */
  Spec: SwarmServiceSpec & Record<string, unknown>;
  /** The spec before the last update: what `rollback=previous` goes back to. */
  PreviousSpec?: SwarmServiceSpec & Record<string, unknown>;
  UpdateStatus?: SwarmUpdateStatus;
  Endpoint?: { Ports?: { TargetPort: number; PublishedPort: number }[] };
}

/** One task (a container slot) of a service, `GET /tasks?filters={"service":[...]}`. */
export interface SwarmTask {
  ID: string;
  ServiceID: string;
  Slot?: number;
  CreatedAt: string;
  UpdatedAt: string;
  /** What the orchestrator wants: `running` for a current task, `shutdown` for a replaced one. */
  DesiredState: string;
  Status: {
    Timestamp?: string;
    /** `new`...`starting` (health check not passed yet), `running`, `complete`, `failed`, `rejected`, `shutdown`... */
    State: string;
    Message?: string;
    Err?: string;
    ContainerStatus?: { ExitCode?: number };
  };
  Spec: { ContainerSpec?: { Image?: string; Env?: string[]; Args?: string[] } };
}

/** A Docker config object (`GET /configs`), the store of deploy records on Swarm. */
export interface SwarmConfig {
  ID: string;
  CreatedAt: string;
  Spec: { Name: string; Labels?: Record<string, string>; Data?: string };
}

/**
 * What the Swarm deploy needs from the Docker Engine API: the adapter between the release logic (tested
 * against a real single-node swarm) and dockerode. Every method is one Engine API call; errors are
 * dockerode's (`statusCode` + the engine's message).
 */
export interface SwarmApi {
  /** `GET /info` `Swarm.LocalNodeState`: `active` on a swarm manager or worker, `inactive` otherwise. */
  localNodeState(): Promise<string>;
  /** `GET /services/{name}`; undefined on 404. */
  findService(name: string): Promise<SwarmService | undefined>;
  /** `POST /services/create`; returns the new service's id. */
  createService(spec: SwarmServiceSpec): Promise<string>;
  /** `POST /services/{id}/update?version=...` with the whole spec; returns the engine's warnings. */
  updateService(id: string, version: number, spec: SwarmServiceSpec): Promise<string[]>;
  /** `POST /services/{id}/update?version=...&rollback=previous`: back to `PreviousSpec` (`docker service rollback`). */
  rollbackService(id: string, version: number, spec: unknown): Promise<void>;
  /** `DELETE /services/{id}`. */
  removeService(id: string): Promise<void>;
  /** `GET /tasks?filters={"service":[id]}`. */
  listTasks(serviceId: string): Promise<SwarmTask[]>;
  /** `GET /tasks/{id}/logs?tail=n`: the last lines a task wrote (stdout and stderr), for failure reports. */
  taskLogs(id: string, tail: number): Promise<string[]>;
  /** `GET /secrets`: name -> id of every secret. */
  secretIds(): Promise<Map<string, string>>;
  /** `GET /networks/{name}`: its id (a service spec stores network ids), undefined on 404. */
  networkId(name: string): Promise<string | undefined>;
  /** `POST /networks/create` of an attachable overlay network. */
  createOverlayNetwork(name: string, labels: Record<string, string>): Promise<void>;
  /** `POST /configs/create`. */
  createConfig(name: string, labels: Record<string, string>, data: string): Promise<string>;
  /** `GET /configs?filters={"label":[...]}`. */
  listConfigs(labels: Record<string, string>): Promise<SwarmConfig[]>;
  /** `DELETE /configs/{id}`. */
  removeConfig(id: string): Promise<void>;
}

function statusCode(error: unknown): number | undefined {
  return (error as { statusCode?: number }).statusCode;
}

function labelFilter(labels: Record<string, string>): string[] {
  return Object.entries(labels).map(([k, v]) => `${k}=${v}`);
}

/**
 * The {@link SwarmApi} of a dockerode client (the engine at DOCKER_HOST, see `connectDocker`).
 *
 * @example
 * const swarm = dockerSwarmApi(connectDocker());
 * await swarm.localNodeState(); // 'active'
 */
export function dockerSwarmApi(docker: Docker): SwarmApi {
  return {
    async localNodeState() {
      const info = (await docker.info()) as { Swarm?: { LocalNodeState?: string } };
      return info.Swarm?.LocalNodeState ?? 'inactive';
    },
    async findService(name) {
      try {
        return (await docker.getService(name).inspect()) as SwarmService;
      } catch (error) {
        if (statusCode(error) === 404) return undefined;
        throw error;
      }
    },
    async createService(spec) {
      const created = (await docker.createService(spec as unknown as Docker.ServiceSpec)) as {
        id?: string;
        ID?: string;
      };
      return created.ID ?? created.id ?? '';
    },
    async updateService(id, version, spec) {
      const answer = (await docker
        .getService(id)
        .update({ _query: { version }, _body: spec } as unknown as Docker.ServiceSpec)) as {
        Warnings?: string[] | null;
      };
      return answer?.Warnings ?? [];
    },
    async rollbackService(id, version, spec) {
      await docker
        .getService(id)
        .update({ _query: { version, rollback: 'previous' }, _body: spec } as unknown as Docker.ServiceSpec);
    },
    async removeService(id) {
      await docker.getService(id).remove();
    },
    async listTasks(serviceId) {
      return (await docker.listTasks({ filters: { service: [serviceId] } })) as SwarmTask[];
    },
    async taskLogs(id, tail) {
      // dockerode has Task#logs (GET /tasks/{id}/logs); its type declarations do not.
      const task = docker.getTask(id) as unknown as { logs(opts: object): Promise<Buffer> };
      const raw = await task.logs({ stdout: true, stderr: true, tail, follow: false });
      return demultiplexLogs(raw)
        .split('\n')
        .filter((line) => line.trim() !== '');
    },
    async secretIds() {
      const secrets = (await docker.listSecrets()) as { ID: string; Spec?: { Name?: string } }[];
      return new Map(secrets.map((s) => [s.Spec?.Name ?? '', s.ID]));
    },
    async networkId(name) {
      try {
        return ((await docker.getNetwork(name).inspect()) as { Id: string }).Id;
      } catch (error) {
        if (statusCode(error) === 404) return undefined;
        throw error;
      }
    },
    async createOverlayNetwork(name, labels) {
      await docker.createNetwork({ Name: name, Driver: 'overlay', Attachable: true, Labels: labels });
    },
    async createConfig(name, labels, data) {
      const created = (await docker.createConfig({
        Name: name,
        Labels: labels,
        Data: Buffer.from(data).toString('base64'),
      })) as { id?: string; ID?: string };
      return created.ID ?? created.id ?? '';
    },
    async listConfigs(labels) {
      return (await docker.listConfigs({ filters: { label: labelFilter(labels) } })) as SwarmConfig[];
    },
    async removeConfig(id) {
      await docker.getConfig(id).remove();
    },
  };
}
