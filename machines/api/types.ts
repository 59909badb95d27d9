/**
 * The Machines API's documents, in the shape Fly's Machines API gives them (snake_case field
 * names, seconds for lease expiry, RFC 3339 times), so that a Fly client talks to Erne and
 * Erne's fly driver talks to Fly. A config keeps every field it was given, known or not: the
 * index signatures carry what this file does not name.
 */

export const MACHINE_STATES = ['created', 'starting', 'started', 'stopping', 'stopped', 'suspended', 'replacing', 'destroying', 'destroyed', 'failed'] as const;
export type MachineState = (typeof MACHINE_STATES)[number];

/** states `wait` may be asked for (Fly: started, stopped, suspended, destroyed) */
export const WAITABLE_STATES: readonly MachineState[] = ['started', 'stopped', 'suspended', 'destroyed'];

export interface MachinePort {
  port?: number;
  handlers?: string[];
  [unknown: string]: unknown;
}

export interface MachineService {
  internal_port: number;
  protocol?: 'tcp' | 'udp';
  ports?: MachinePort[];
  [unknown: string]: unknown;
}

export interface MachineCheck {
  type: 'http' | 'tcp';
  /** defaults to the first service's internal port */
  port?: number;
  /** Go-style durations as Fly writes them: "10s", "500ms" */
  interval?: string;
  timeout?: string;
  grace_period?: string;
  /** http only */
  path?: string;
  method?: string;
  [unknown: string]: unknown;
}

export type RestartPolicy = 'no' | 'on-failure' | 'always';

export interface MachineRestart {
  policy?: RestartPolicy;
  max_retries?: number;
  [unknown: string]: unknown;
}

export interface MachineMount {
  /** where the program finds its volume (the process driver passes it as ERNE_DATA_DIR / MACHINE_VOLUME) */
  path?: string;
  volume?: string;
  name?: string;
  size_gb?: number;
  [unknown: string]: unknown;
}

export interface MachineConfig {
  image?: string;
  init?: { exec?: string[]; entrypoint?: string[]; cmd?: string[]; [unknown: string]: unknown };
  env?: Record<string, string>;
  guest?: { cpus?: number; memory_mb?: number; cpu_kind?: string; [unknown: string]: unknown };
  services?: MachineService[];
  checks?: Record<string, MachineCheck>;
  restart?: MachineRestart;
  metadata?: Record<string, string>;
  mounts?: MachineMount[];
  /** how a stop is done when the request says nothing: signal first, SIGKILL after timeout */
  stop_config?: { signal?: string; timeout?: string | number; [unknown: string]: unknown };
  [unknown: string]: unknown;
}

export interface MachineEvent {
  id: string;
  type: string;
  status: string;
  source: 'user' | 'flyd';
  /** unix milliseconds, as Fly gives them */
  timestamp: number;
  request?: Record<string, unknown>;
}

export interface CheckStatus {
  name: string;
  status: 'passing' | 'warning' | 'critical';
  output: string;
  updated_at: string;
}

/** what GET /v1/apps/{app}/machines/{id} answers */
export interface Machine {
  id: string;
  name: string;
  state: MachineState;
  region: string;
  instance_id: string;
  version: string;
  private_ip: string;
  config: MachineConfig;
  image_ref: { registry: string; repository: string; tag: string; digest: string };
  created_at: string;
  updated_at: string;
  events: MachineEvent[];
  checks: CheckStatus[];
  /** Erne's own facts about where the machine runs (Fly clients ignore unknown fields) */
  erne?: { driver: string; pid?: number; restarts: number; exit_code?: number | null; detail?: Record<string, string> };
}

export interface LeaseData {
  nonce: string;
  /** unix seconds */
  expires_at: number;
  owner: string;
  description: string;
  version: string;
}

export interface LeaseResponse {
  status: 'success';
  data: LeaseData;
}

export interface App {
  id: string;
  name: string;
  status: string;
  organization: { name: string; slug: string };
  machine_count?: number;
}

export interface CreateMachineRequest {
  name?: string;
  region?: string;
  config: MachineConfig;
  skip_launch?: boolean;
  lease_ttl?: number;
}
