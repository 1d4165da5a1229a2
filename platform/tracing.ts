import { setTimeout as sleep } from 'node:timers/promises';
import { trace, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  TracerProvider,
  type BatchSpanProcessorOptions,
  type Sampler,
} from '@opentelemetry/sdk-trace';
import { ConfigError } from './environment';

/** The tracer every span of this project comes from: the no-op one until `startTracing` registers an SDK. */
export function projectTracer(): Tracer {
  return trace.getTracer('trade-webhooks');
}

export interface Tracing {
  /** Whether spans are exported (an OTLP endpoint is set). */
  readonly exporting: boolean;
  /** Settings it honours differently than asked (an OTLP protocol other than http/json). */
  readonly warnings: readonly string[];
  /** Exports the spans still buffered, then stops; waits SHUTDOWN_MS at most. */
  shutdown(): Promise<void>;
}

/** How long a stop waits for the last spans to be exported. */
export const SHUTDOWN_MS = 2000;

const SAMPLERS = ['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'] as const;

/** OTEL_TRACES_SAMPLER and its argument, as the OpenTelemetry SDK environment specification defines them. */
function samplerFrom(env: NodeJS.ProcessEnv, problems: string[]): Sampler {
  const name = env.OTEL_TRACES_SAMPLER?.trim() || 'parentbased_always_on';
  if (!(SAMPLERS as readonly string[]).includes(name)) {
    problems.push(`OTEL_TRACES_SAMPLER must be one of ${SAMPLERS.join(', ')}`);
    return new AlwaysOffSampler();
  }
  const argument = env.OTEL_TRACES_SAMPLER_ARG?.trim();
  const ratio = argument ? Number(argument) : 1;
  if (name.endsWith('traceidratio') && !(ratio >= 0 && ratio <= 1)) problems.push('OTEL_TRACES_SAMPLER_ARG must be a number from 0 to 1');
  const root = name.endsWith('always_on') ? new AlwaysOnSampler() : name.endsWith('always_off') ? new AlwaysOffSampler() : new TraceIdRatioBasedSampler(ratio);
  return name.startsWith('parentbased_') ? new ParentBasedSampler({ root }) : root;
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

/**
 * Starts exporting spans over OTLP/HTTP (JSON) when `OTEL_EXPORTER_OTLP_ENDPOINT` or
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` is set, with the standard OpenTelemetry variables:
 * the exporter reads its endpoint, headers, timeout, compression and certificates itself;
 * `OTEL_SERVICE_NAME` and `OTEL_RESOURCE_ATTRIBUTES` name the service (`serviceName` when
 * unset); `OTEL_TRACES_SAMPLER` / `_ARG` choose the sampler, `OTEL_BSP_*` the batching;
 * `OTEL_SDK_DISABLED=true` turns it off. `env` decides whether and how; the exporter and the
 * resource read `process.env` themselves, as the SDK does. Without an endpoint nothing is registered: every span is the API's no-op, which costs
 * next to nothing and still carries a received trace context on (see contextHeaders).
 * Throws ConfigError naming every variable it cannot use.
 */
export function startTracing(options: { serviceName: string; env?: NodeJS.ProcessEnv }): Tracing {
  const env = options.env ?? process.env;
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  if (!endpoint || env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return { exporting: false, warnings: [], shutdown: async () => undefined };
  const problems: string[] = [];
  for (const name of ['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', 'OTEL_EXPORTER_OTLP_ENDPOINT']) {
    const value = env[name]?.trim();
    if (value && !/^https?:\/\/[^/]/.test(value)) problems.push(`${name} must be an http:// or https:// URL`);
  }
  const warnings: string[] = [];
  const protocol = (env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL)?.trim();
  // The collector's and Jaeger's OTLP/HTTP receivers take JSON and protobuf on the same path; gRPC is another port.
  if (protocol === 'grpc') problems.push('OTEL_EXPORTER_OTLP_PROTOCOL (or _TRACES_PROTOCOL) cannot be grpc: spans are exported as OTLP/HTTP JSON');
  else if (protocol && protocol !== 'http/json') warnings.push(`OTEL_EXPORTER_OTLP_PROTOCOL is ${protocol}: spans are exported as http/json, which OTLP/HTTP receivers also accept`);
  const sampler = samplerFrom(env, problems);
  const batching = batchSettingsFrom(env, problems);
  if (problems.length > 0) throw new ConfigError(problems);

  const resource = resourceFromAttributes({ 'service.name': options.serviceName }).merge(detectResources({ detectors: [envDetector] }));
  const provider = new TracerProvider({ resource, sampler, spanProcessors: [new BatchSpanProcessor({ exporter: new OTLPTraceExporter(), ...batching })] });
  trace.setGlobalTracerProvider(provider);
  return {
    exporting: true,
    warnings,
    // Bounded: an unreachable collector must not hold a stop past an orchestrator's kill timeout.
    shutdown: () => Promise.race([provider.shutdown().catch(() => undefined), sleep(SHUTDOWN_MS)]).then(() => undefined),
  };
}
