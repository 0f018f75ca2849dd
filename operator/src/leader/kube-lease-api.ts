// LeaseApi over client-node's CoordinationV1Api: read, create and replace one Lease; a 409 becomes
// LeaseConflict. Lease times are MicroTime (see ../kube/micro-time.ts).
import { ApiException, CoordinationV1Api, type KubeConfig, type V1Lease } from '@kubernetes/client-node';
import { microTime, readMicroTime } from '../kube/micro-time.ts';
import { LeaseConflict, type LeaseApi, type LeaseRecord } from './lease-election.ts';

/** LeaseApi over client-node's CoordinationV1Api. */
export class KubeLeaseApi implements LeaseApi {
  readonly #api: CoordinationV1Api;
  readonly #namespace: string;
  readonly #name: string;

  constructor(kubeConfig: KubeConfig, namespace: string, name: string) {
    this.#api = kubeConfig.makeApiClient(CoordinationV1Api);
    this.#namespace = namespace;
    this.#name = name;
  }

  async read(): Promise<LeaseRecord | undefined> {
    try {
      return toRecord(await this.#api.readNamespacedLease({ namespace: this.#namespace, name: this.#name }));
    } catch (error) {
      if (error instanceof ApiException && error.code === 404) return undefined;
      throw error;
    }
  }

  async create(record: LeaseRecord): Promise<LeaseRecord> {
    return this.#write(() =>
      this.#api.createNamespacedLease({ namespace: this.#namespace, body: this.#lease(record) }),
    );
  }

  async replace(record: LeaseRecord): Promise<LeaseRecord> {
    return this.#write(() =>
      this.#api.replaceNamespacedLease({
        namespace: this.#namespace,
        name: this.#name,
        body: this.#lease(record),
      }),
    );
  }

  async #write(request: () => Promise<V1Lease>): Promise<LeaseRecord> {
    try {
      return toRecord(await request());
    } catch (error) {
      if (error instanceof ApiException && error.code === 409) throw new LeaseConflict();
      throw error;
    }
  }

  #lease(record: LeaseRecord): V1Lease {
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: this.#name, namespace: this.#namespace, resourceVersion: record.resourceVersion },
      spec: {
        holderIdentity: record.holderIdentity,
        leaseDurationSeconds: record.leaseDurationSeconds,
        acquireTime: record.acquireTime === undefined ? undefined : microTime(record.acquireTime),
        renewTime: record.renewTime === undefined ? undefined : microTime(record.renewTime),
        leaseTransitions: record.leaseTransitions,
      },
    };
  }
}

function toRecord(lease: V1Lease): LeaseRecord {
  return {
    holderIdentity: lease.spec?.holderIdentity,
    leaseDurationSeconds: lease.spec?.leaseDurationSeconds,
    acquireTime: readMicroTime(lease.spec?.acquireTime),
    renewTime: readMicroTime(lease.spec?.renewTime),
    leaseTransitions: lease.spec?.leaseTransitions,
    resourceVersion: lease.metadata?.resourceVersion,
  };
}
