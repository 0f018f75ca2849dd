// Fakes of the operator's own interfaces (ClusterApi, RedisAcl, EventRecorder) for unit tests of
// the reconcile. They keep the rules the reconcile relies on: resourceVersion checks (409),
// AlreadyExists (409), the API server deleting an object whose last finalizer goes, and Redis
// nodes that can be down. Everything about the real API server is left to the integration tests.
import { API_VERSION, KIND } from '../../src/api/types.ts';
import {
  ApiError,
  type CacheNamespaceObject,
  type ClusterApi,
  type ConfigMapView,
  type SecretView,
  type SecretWrite,
} from '../../src/controller/cluster-api.ts';
import type { EventReason, EventRecorder, EventTarget, EventType } from '../../src/controller/events.ts';
import { MANAGED_BY, MANAGED_BY_LABEL } from '../../src/desired/desired-state.ts';
import { AclNodesError, type RedisAcl } from '../../src/redis/acl-admin.ts';
import type { AclUserSpec, AclUserState } from '../../src/redis/acl-rules.ts';
import { passwordHash } from '../../src/redis/acl-rules.ts';

type Method = keyof ClusterApi;

export class FakeCluster implements ClusterApi {
  readonly objects = new Map<string, CacheNamespaceObject>();
  readonly secrets = new Map<string, SecretView>();
  configMap: ConfigMapView | undefined;
  configMapNamespaceExists = true;
  /** Every write, as `method namespace/name`. */
  readonly writes: string[] = [];
  #rv = 100;
  #uid = 0;
  #clock = Date.parse('2025-01-01T00:00:00Z');
  readonly #failures = new Map<Method, unknown[]>();

  /** The next call of `method` throws `error` (queued per method). */
  failNext(method: Method, error: unknown): void {
    this.#failures.set(method, [...(this.#failures.get(method) ?? []), error]);
  }

  /** Creates a CacheNamespace as the API server would (uid, generation 1, creationTimestamp). */
  create(namespace: string, name: string, spec: Record<string, unknown>): CacheNamespaceObject {
    this.#clock += 1000;
    const object: CacheNamespaceObject = {
      apiVersion: API_VERSION,
      kind: KIND,
      metadata: {
        name,
        namespace,
        uid: `uid-${(this.#uid += 1)}`,
        generation: 1,
        resourceVersion: this.#nextRv(),
        creationTimestamp: new Date(this.#clock).toISOString().replace('.000', ''),
      },
      spec,
    };
    this.objects.set(`${namespace}/${name}`, object);
    return object;
  }

  /** A spec change: generation + 1. */
  updateSpec(namespace: string, name: string, spec: Record<string, unknown>): void {
    const object = this.#object(namespace, name);
    this.objects.set(`${namespace}/${name}`, {
      ...object,
      metadata: {
        ...object.metadata,
        generation: (object.metadata.generation ?? 1) + 1,
        resourceVersion: this.#nextRv(),
      },
      spec,
    });
  }

  /** `kubectl delete`: gone at once without finalizers, else marked. */
  delete(namespace: string, name: string): void {
    const object = this.#object(namespace, name);
    if ((object.metadata.finalizers ?? []).length === 0) {
      this.objects.delete(`${namespace}/${name}`);
      return;
    }
    this.objects.set(`${namespace}/${name}`, {
      ...object,
      metadata: {
        ...object.metadata,
        deletionTimestamp: '2025-06-01T00:00:00Z',
        resourceVersion: this.#nextRv(),
      },
    });
  }

  get(namespace: string, name: string): CacheNamespaceObject | undefined {
    return this.objects.get(`${namespace}/${name}`);
  }

  getCacheNamespace(namespace: string, name: string): CacheNamespaceObject | undefined {
    return this.objects.get(`${namespace}/${name}`);
  }

  listCacheNamespaces(): CacheNamespaceObject[] {
    return [...this.objects.values()];
  }

  getSecret(namespace: string, name: string): SecretView | undefined {
    const secret = this.secrets.get(`${namespace}/${name}`);
    return secret?.labels[MANAGED_BY_LABEL] === MANAGED_BY ? secret : undefined;
  }

  getConfigMap(): ConfigMapView | undefined {
    return this.configMap;
  }

  async readSecret(namespace: string, name: string): Promise<SecretView | undefined> {
    await this.#maybeFail('readSecret');
    return this.secrets.get(`${namespace}/${name}`);
  }

  async createSecret(secret: SecretWrite): Promise<SecretView> {
    await this.#maybeFail('createSecret');
    const key = `${secret.namespace}/${secret.name}`;
    if (this.secrets.has(key))
      throw new ApiError(409, `secrets "${secret.name}" already exists`, 'AlreadyExists');
    return this.#storeSecret(key, secret, 'createSecret');
  }

  async replaceSecret(secret: SecretWrite): Promise<SecretView> {
    await this.#maybeFail('replaceSecret');
    const key = `${secret.namespace}/${secret.name}`;
    const current = this.secrets.get(key);
    if (current === undefined) throw new ApiError(404, 'not found', 'NotFound');
    if (current.resourceVersion !== secret.resourceVersion) throw conflict();
    return this.#storeSecret(key, secret, 'replaceSecret');
  }

  async readConfigMap(): Promise<ConfigMapView | undefined> {
    await this.#maybeFail('readConfigMap');
    return this.configMap;
  }

  async createConfigMap(data: Record<string, string>): Promise<ConfigMapView> {
    await this.#maybeFail('createConfigMap');
    if (!this.configMapNamespaceExists)
      throw new ApiError(404, 'namespaces "cacheplane-system" not found', 'NotFound');
    if (this.configMap !== undefined) throw new ApiError(409, 'already exists', 'AlreadyExists');
    this.writes.push('createConfigMap');
    this.configMap = { resourceVersion: this.#nextRv(), data: { ...data } };
    return this.configMap;
  }

  async replaceConfigMap(resourceVersion: string, data: Record<string, string>): Promise<ConfigMapView> {
    await this.#maybeFail('replaceConfigMap');
    if (this.configMap === undefined) throw new ApiError(404, 'not found', 'NotFound');
    if (this.configMap.resourceVersion !== resourceVersion) throw conflict();
    this.writes.push('replaceConfigMap');
    this.configMap = { resourceVersion: this.#nextRv(), data: { ...data } };
    return this.configMap;
  }

  /** Someone else edits a Secret (kubectl edit): a new resourceVersion. */
  editSecret(namespace: string, name: string, edit: (secret: SecretView) => void): void {
    const secret = this.secrets.get(`${namespace}/${name}`);
    if (secret === undefined) throw new Error(`no Secret ${namespace}/${name}`);
    const edited = structuredClone(secret);
    edit(edited);
    this.secrets.set(`${namespace}/${name}`, { ...edited, resourceVersion: this.#nextRv() });
  }

  /** Someone else edits the ConfigMap. */
  editConfigMap(edit: (data: Record<string, string>) => void): void {
    const data = { ...this.configMap?.data };
    edit(data);
    this.configMap = { resourceVersion: this.#nextRv(), data };
  }

  async replaceCacheNamespace(object: CacheNamespaceObject): Promise<CacheNamespaceObject> {
    await this.#maybeFail('replaceCacheNamespace');
    const { namespace, name } = object.metadata;
    const current = this.#checked(object);
    this.writes.push(`replaceCacheNamespace ${namespace}/${name}`);
    const next: CacheNamespaceObject = {
      ...current,
      metadata: {
        ...current.metadata,
        finalizers: object.metadata.finalizers,
        resourceVersion: this.#nextRv(),
      },
    };
    if (next.metadata.deletionTimestamp !== undefined && (next.metadata.finalizers ?? []).length === 0) {
      this.objects.delete(`${namespace}/${name}`);
    } else {
      this.objects.set(`${namespace}/${name}`, next);
    }
    return next;
  }

  async replaceCacheNamespaceStatus(object: CacheNamespaceObject): Promise<CacheNamespaceObject> {
    await this.#maybeFail('replaceCacheNamespaceStatus');
    const { namespace, name } = object.metadata;
    const current = this.#checked(object);
    this.writes.push(`replaceCacheNamespaceStatus ${namespace}/${name}`);
    const next: CacheNamespaceObject = {
      ...current,
      metadata: { ...current.metadata, resourceVersion: this.#nextRv() },
      status: structuredClone(object.status),
    };
    this.objects.set(`${namespace}/${name}`, next);
    return next;
  }

  #checked(object: CacheNamespaceObject): CacheNamespaceObject {
    const current = this.objects.get(`${object.metadata.namespace}/${object.metadata.name}`);
    if (current === undefined) throw new ApiError(404, 'not found', 'NotFound');
    if (current.metadata.resourceVersion !== object.metadata.resourceVersion) throw conflict();
    return current;
  }

  #storeSecret(key: string, secret: SecretWrite, method: string): SecretView {
    this.writes.push(`${method} ${key}`);
    const stored: SecretView = {
      namespace: secret.namespace,
      name: secret.name,
      resourceVersion: this.#nextRv(),
      labels: { ...secret.labels },
      annotations: secret.annotations === undefined ? undefined : { ...secret.annotations },
      ownerReferences: secret.ownerReferences.map((reference) => ({ ...reference })),
      values: { ...secret.values },
    };
    this.secrets.set(key, stored);
    return stored;
  }

  #object(namespace: string, name: string): CacheNamespaceObject {
    const object = this.objects.get(`${namespace}/${name}`);
    if (object === undefined) throw new Error(`no object ${namespace}/${name}`);
    return object;
  }

  /** An asynchronous boundary, as a real call has, and the failure queued for `method`, if any. */
  async #maybeFail(method: Method): Promise<void> {
    await Promise.resolve();
    const queued = this.#failures.get(method);
    if (queued === undefined || queued.length === 0) return;
    throw queued.shift();
  }

  #nextRv(): string {
    this.#rv += 1;
    return String(this.#rv);
  }
}

function conflict(): ApiError {
  return new ApiError(
    409,
    'the object has been modified; please apply your changes to the latest version',
    'Conflict',
  );
}

/** ACL users per node, as Redis would report them after ACL SETUSER. */
export class FakeRedisAcl implements RedisAcl {
  readonly nodes: string[];
  readonly users = new Map<string, Map<string, AclUserState>>();
  readonly down = new Set<string>();
  /** Every call, as `apply name` / `remove name` / `inspect name`. */
  readonly calls: string[];

  /** `calls`: pass FakeCluster's `writes` to see both in one order. */
  constructor(nodes = ['10.0.0.1:6379', '10.0.0.2:6379', '10.0.0.3:6379'], calls: string[] = []) {
    this.nodes = nodes;
    this.calls = calls;
    for (const node of nodes) this.users.set(node, new Map());
  }

  async apply(user: AclUserSpec, password: string): Promise<void> {
    this.calls.push(`apply ${user.name}`);
    await this.#everyNode('ACL SETUSER', (users) => {
      users.set(user.name, {
        flags: ['on'],
        passwordHashes: [passwordHash(password)],
        commandRules: ['-@all', ...user.commands.map((command) => `+${command}`)],
        keyRules: user.keyPatterns.map((pattern) => `~${pattern}`),
        channelRules: [],
        selectorCount: 0,
      });
    });
  }

  async remove(name: string): Promise<void> {
    this.calls.push(`remove ${name}`);
    await this.#everyNode('ACL DELUSER', (users) => users.delete(name));
  }

  async inspect(name: string): Promise<Map<string, AclUserState | undefined>> {
    this.calls.push(`inspect ${name}`);
    const states = new Map<string, AclUserState | undefined>();
    await this.#everyNode('ACL GETUSER', (users, node) => states.set(node, users.get(name)));
    return states;
  }

  async close(): Promise<void> {}

  user(node: string, name: string): AclUserState | undefined {
    return this.users.get(node)?.get(name);
  }

  /** Applies to the nodes that are up; fails naming the others, like IoredisAcl. */
  async #everyNode(
    action: string,
    change: (users: Map<string, AclUserState>, node: string) => void,
  ): Promise<void> {
    await Promise.resolve();
    const failures: Array<{ node: string; error: Error }> = [];
    for (const node of this.nodes) {
      if (this.down.has(node))
        failures.push({ node, error: new Error('cannot connect: connect ECONNREFUSED') });
      else change(this.users.get(node) as Map<string, AclUserState>, node);
    }
    if (failures.length > 0) throw new AclNodesError(action, failures, this.nodes.length);
  }
}

export interface RecordedEvent {
  object: string;
  type: EventType;
  reason: EventReason;
  note: string;
}

export class RecordingEvents implements EventRecorder {
  readonly events: RecordedEvent[] = [];

  record(target: EventTarget, type: EventType, reason: EventReason, _action: string, note: string): void {
    this.events.push({ object: `${target.namespace}/${target.name}`, type, reason, note });
  }

  reasons(): EventReason[] {
    return this.events.map((event) => event.reason);
  }
}
