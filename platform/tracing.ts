import { setTimeout as sleep } from 'node:timers/promises';
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { diag, DiagLogLevel, trace, type DiagLogger, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  SamplingDecision,
  TraceIdRatioBasedSampler,
  TracerProvider,
  type BatchSpanProcessorOptions,
  type Sampler,
  type SamplingResult,
} from '@opentelemetry/sdk-trace';
import type { Logger } from 'pino';

/** The tracer every span of this project comes from: the no-op one until `startTracing` registers an SDK. */
export function projectTracer(): Tracer {
  return trace.getTracer('trade-webhooks');
}

export interface Tracing {
  /** Whether spans are exported (an OTLP endpoint is set). */
  readonly exporting: boolean;
  /** Exports the spans still buffered, then stops; waits SHUTDOWN_MS at most. */
  shutdown(): Promise<void>;
}

/**
 * How long a stop waits for the last spans to be exported. Run beside the producers' bounded
 * disconnect (DISCONNECT_MS, 1 s), so that a collector that does not answer adds nothing to a stop.
 */
export const SHUTDOWN_MS = 1000;

/** One line at most this often for each distinct OpenTelemetry warning: a collector down fails every export. */
export const DIAG_REPEAT_MS = 10_000;

const SAMPLERS = ['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'] as const;

/**
 * Samples a span whose parent came from the network by a local random draw at `ratio`. The
 * sender chose that trace id, and a ratio taken on the id (TraceIdRatioBasedSampler) would let
 * it pick an id that is always sampled.
 */
class RemoteParentRatioSampler implements Sampler {
  constructor(private readonly ratio: number) {}

  shouldSample(): SamplingResult {
    return { decision: Math.random() < this.ratio ? SamplingDecision.RECORD_AND_SAMPLED : SamplingDecision.NOT_RECORD };
  }

  toString(): string {
    return `RemoteParentRatioSampler{${this.ratio}}`;
  }
}

/**
 * OTEL_TRACES_SAMPLER and its argument, as the OpenTelemetry SDK environment specification
 * defines them, with two differences. A span under a local parent follows its parent, so a
 * trace is sampled whole (`traceidratio` behaves as `parentbased_traceidratio`). And nothing
 * about a remote parent decides: the sender of a webhook is not authenticated when its
 * traceparent is read. Its trace id is continued, but neither its sampled flag nor the id
 * itself (which it chose) is what the ratio is taken on: a local random draw is.
 */
export function samplerFrom(env: NodeJS.ProcessEnv, problems: string[]): Sampler {
  const name = env.OTEL_TRACES_SAMPLER?.trim() || 'parentbased_always_on';
  if (!(SAMPLERS as readonly string[]).includes(name)) {
    problems.push(`OTEL_TRACES_SAMPLER must be one of ${SAMPLERS.join(', ')}`);
    return new AlwaysOffSampler();
  }
  const argument = env.OTEL_TRACES_SAMPLER_ARG?.trim();
  const ratio = argument ? Number(argument) : 1;
  if (name.endsWith('traceidratio') && !(ratio >= 0 && ratio <= 1)) problems.push('OTEL_TRACES_SAMPLER_ARG must be a number from 0 to 1');
  const [root, remote] = name.endsWith('always_on')
    ? [new AlwaysOnSampler(), new AlwaysOnSampler()]
    : name.endsWith('always_off')
      ? [new AlwaysOffSampler(), new AlwaysOffSampler()]
      : [new TraceIdRatioBasedSampler(ratio), new RemoteParentRatioSampler(ratio)];
  return new ParentBasedSampler({ root, remoteParentSampled: remote, remoteParentNotSampled: remote });
}

const BATCH_SETTINGS = {
  OTEL_BSP_SCHEDULE_DELAY: 'scheduledDelayMillis',
  OTEL_BSP_EXPORT_TIMEOUT: 'exportTimeoutMillis',
  OTEL_BSP_MAX_QUEUE_SIZE: 'maxQueueSize',
  OTEL_BSP_MAX_EXPORT_BATCH_SIZE: 'maxExportBatchSize',
} as const;

type BatchSettings = Partial<Omit<BatchSpanProcessorOptions, 'exporter'>>;

/** The batch span processor's OTEL_BSP_* settings: whole milliseconds or counts, the SDK's defaults when unset. */
function batchSettingsFrom(env: NodeJS.ProcessEnv, problems: string[]): BatchSettings {
  const settings: BatchSettings = {};
  for (const [name, option] of Object.entries(BATCH_SETTINGS)) {
    const value = env[name]?.trim();
    if (!value) continue;
    if (/^\d{1,9}$/.test(value) && Number(value) > 0) settings[option] = Number(value);
    else problems.push(`${name} must be a positive whole number`);
  }
  return settings;
}

/** A variable's value, trimmed; undefined when unset or empty (an empty value means unset, as the specification says). */
function setting(env: NodeJS.ProcessEnv, name: string): string | undefined {
  return env[name]?.trim() || undefined;
}

// An HTTP token, as a header name must be.
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Whether OTEL_EXPORTER_OTLP_HEADERS is `name=value` pairs, comma-separated, values percent-decodable. */
function validHeaders(value: string): boolean {
  return value.split(',').every((pair) => {
    const separator = pair.indexOf('=');
    if (separator < 1 || !HEADER_NAME.test(pair.slice(0, separator).trim())) return false;
    try {
      decodeURIComponent(pair.slice(separator + 1).trim());
      return true;
    } catch {
      return false;
    }
  });
}

/**
 * The exporter's own variables (both the general and the traces form of each), which the SDK
 * would otherwise ignore with a diagnostic nobody sees: an export that silently goes nowhere.
 * Problems name the variable, never a header's value (it may be a token).
 */
function checkExporterSettings(env: NodeJS.ProcessEnv, problems: string[], warnings: string[]): void {
  const each = (suffix: string): Array<[string, string]> =>
    [`OTEL_EXPORTER_OTLP_TRACES_${suffix}`, `OTEL_EXPORTER_OTLP_${suffix}`].flatMap((name): Array<[string, string]> => {
      const value = setting(env, name);
      return value === undefined ? [] : [[name, value]];
    });
  for (const [name, value] of each('ENDPOINT')) {
    let protocol: string | undefined;
    try {
      protocol = new URL(value).protocol;
    } catch {
      protocol = undefined;
    }
    if (protocol !== 'http:' && protocol !== 'https:') problems.push(`${name} must be an http:// or https:// URL`);
  }
  // The traces form wins when set; an empty one is unset and does not hide the general one.
  const protocolSetting = each('PROTOCOL')[0];
  if (protocolSetting) {
    const [name, value] = protocolSetting;
    const protocol = value.toLowerCase();
    // The collector's and Jaeger's OTLP/HTTP receivers take JSON and protobuf on the same path; gRPC is another port.
    if (protocol === 'http/protobuf') warnings.push(`${name} is http/protobuf: spans are exported as http/json, which OTLP/HTTP receivers also accept`);
    else if (protocol !== 'http/json') problems.push(`${name} must be http/json or http/protobuf (spans are exported as OTLP/HTTP JSON; grpc is not supported)`);
  }
  for (const [name, value] of each('TIMEOUT')) if (!(/^\d{1,9}$/.test(value) && Number(value) > 0)) problems.push(`${name} must be a positive whole number of milliseconds`);
  for (const [name, value] of each('COMPRESSION')) if (value !== 'gzip' && value !== 'none') problems.push(`${name} must be gzip or none`);
  for (const [name, value] of each('HEADERS')) if (!validHeaders(value)) problems.push(`${name} must be name=value pairs separated by commas, values percent-encoded`);
  for (const suffix of ['CERTIFICATE', 'CLIENT_CERTIFICATE', 'CLIENT_KEY']) {
    for (const [name, path] of each(suffix)) {
      try {
        if (!statSync(resolve(path)).isFile()) problems.push(`${name} names ${path}, which is not a regular file`);
      } catch (error) {
        problems.push(`${name} names ${path}, which cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
      }
    }
  }
}

/** What startTracing needs, read and checked with the rest of a service's configuration. */
export interface TracingConfig {
  readonly serviceName: string;
  /** Absent when nothing is exported. */
  readonly export?: {
    /** Where spans are posted (the exporter reads its other settings from `process.env`). */
    readonly url: string;
    readonly sampler: Sampler;
    readonly batching: BatchSettings;
    /** Links a span keeps, at least: a transaction's span links to each of its events. */
    readonly linkCountLimit: number;
  };
  /** Settings honoured differently than asked (an OTLP protocol of http/protobuf). */
  readonly warnings: readonly string[];
}

/**
 * Reads the standard OpenTelemetry variables, adding what it cannot use to `problems`, for the
 * service's configuration reader to report with its own. Spans are exported over OTLP/HTTP
 * (JSON) when `OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` is set, unless
 * `OTEL_TRACES_EXPORTER=none` or `OTEL_SDK_DISABLED=true`. `OTEL_TRACES_EXPORTER` may only be
 * `otlp` (the default) or `none`. The exporter reads its endpoint, headers, timeout,
 * compression and certificates from `process.env` itself (but the endpoint, from `env`); they
 * are checked here first.
 * `OTEL_SERVICE_NAME` and `OTEL_RESOURCE_ATTRIBUTES` name the service (`serviceName` when
 * unset); `OTEL_TRACES_SAMPLER` / `_ARG` choose the sampler (see samplerFrom), `OTEL_BSP_*` the
 * batching. `maxLinks` is the most links one span needs (the events of a transaction).
 */
export function readTracingConfig(env: NodeJS.ProcessEnv, options: { serviceName: string; maxLinks?: number }, problems: string[]): TracingConfig {
  const { serviceName } = options;
  const off: TracingConfig = { serviceName, warnings: [] };
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return off;
  const exporter = setting(env, 'OTEL_TRACES_EXPORTER')?.toLowerCase() ?? 'otlp';
  if (exporter !== 'otlp' && exporter !== 'none') {
    problems.push('OTEL_TRACES_EXPORTER must be otlp or none');
    return off;
  }
  const general = setting(env, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  // The traces endpoint is the whole URL; the general one is the collector's, where traces have their path.
  const url = setting(env, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT') ?? (general && `${general.endsWith('/') ? general : `${general}/`}v1/traces`);
  if (exporter === 'none' || !url) return off;
  const warnings: string[] = [];
  checkExporterSettings(env, problems, warnings);
  const sampler = samplerFrom(env, problems);
  const batching = batchSettingsFrom(env, problems);
  return { serviceName, warnings, export: { url, sampler, batching, linkCountLimit: Math.max(128, options.maxLinks ?? 0) } };
}

/**
 * A diagnostic's text: the SDK's error handler passes an error as its JSON (stack and all), of
 * which its name and message are the part worth a line.
 */
function diagnosticText(message: string): string {
  if (message.startsWith('{')) {
    try {
      const { name, message: text } = JSON.parse(message) as { name?: unknown; message?: unknown };
      if (typeof text === 'string') return `${typeof name === 'string' ? name : 'Error'}: ${text}`;
    } catch {
      // Not JSON after all: the message as it is.
    }
  }
  return message;
}

/** OpenTelemetry's own warnings and errors (a failed export among them) as log lines, each distinct one at most once every DIAG_REPEAT_MS. */
function diagnosticsTo(logger: Logger): DiagLogger {
  const lastLogged = new Map<string, number>();
  // A URL's user:password@ is never logged; nor is a diagnostic without bound.
  const clean = (value: string): string => value.replace(/\/\/[^/\s:@]+:[^/\s@]+@/g, '//***@').slice(0, 1000);
  const log = (level: 'warn' | 'error') => (raw: string, ...args: unknown[]) => {
    const message = clean(diagnosticText(raw));
    const now = Date.now();
    const last = lastLogged.get(message);
    if (last !== undefined && now - last < DIAG_REPEAT_MS) return;
    // Bounded: the messages carry addresses and error texts, a few distinct ones at a time.
    if (lastLogged.size >= 100) lastLogged.clear();
    lastLogged.set(message, now);
    const detail = args.map((arg) => (arg instanceof Error ? arg.message : typeof arg === 'string' ? arg : (JSON.stringify(arg) ?? String(arg)))).join(' ');
    logger[level]({ detail: detail ? clean(detail) : undefined }, `OpenTelemetry: ${message}`);
  };
  const ignore = (): void => undefined;
  return { error: log('error'), warn: log('warn'), info: ignore, debug: ignore, verbose: ignore };
}

/**
 * Registers the SDK `config` describes, its problems and warnings reported before, and forwards
 * OpenTelemetry's warnings to `logger`. Without an export nothing is registered: every span is
 * the API's no-op, which costs next to nothing and still carries a received trace context on
 * (see contextHeaders).
 */
export function startTracing(config: TracingConfig, logger: Logger): Tracing {
  if (!config.export) return { exporting: false, shutdown: async () => undefined };
  const { url, sampler, batching, linkCountLimit } = config.export;
  diag.setLogger(diagnosticsTo(logger), { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
  const resource = resourceFromAttributes({ 'service.name': config.serviceName }).merge(detectResources({ detectors: [envDetector] }));
  const provider = new TracerProvider({
    resource,
    sampler,
    spanLimits: { linkCountLimit },
    spanProcessors: [new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url }), ...batching })],
  });
  trace.setGlobalTracerProvider(provider);
  return {
    exporting: true,
    // Bounded: an unreachable collector must not hold a stop past an orchestrator's kill timeout.
    shutdown: () => Promise.race([provider.shutdown().catch(() => undefined), sleep(SHUTDOWN_MS)]).then(() => undefined),
  };
}
