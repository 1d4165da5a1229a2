import { diag, trace, type Tracer } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { createLogger } from '../../platform/logger';
import { readTracingConfig, startTracing } from '../../platform/tracing';
import { CapturedLogs } from './receiver';

export interface RecordedSpans {
  /** Every span the project started, in order, as the SDK keeps it (ended or not). */
  readonly spans: ReadableSpan[];
  /** Takes the SDK away again: the global registration would outlive the test. */
  stop(): Promise<void>;
}

/**
 * Starts the project's tracing in this process and records the spans it starts. The OTLP
 * exporter cannot run under Jest (it imports node:http dynamically), so the spans are read where
 * they are started, with a spy on the API's getTracer, never exported. `env` adds OTEL_* settings.
 */
export function recordSpans(env: NodeJS.ProcessEnv = {}, options: { maxLinks?: number; logs?: CapturedLogs } = {}): RecordedSpans {
  const problems: string[] = [];
  const config = readTracingConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', ...env }, { serviceName: 'test', maxLinks: options.maxLinks }, problems);
  if (problems.length > 0) throw new Error(problems.join('; '));
  const tracing = startTracing(config, createLogger({ level: 'warn', name: 'test' }, options.logs ?? new CapturedLogs()));
  const tracer = trace.getTracer('trade-webhooks');
  const spans: ReadableSpan[] = [];
  const spy = jest.spyOn(trace, 'getTracer').mockReturnValue({
    startSpan: (...args: Parameters<Tracer['startSpan']>) => {
      const span = tracer.startSpan(...args);
      spans.push(span as unknown as ReadableSpan);
      return span;
    },
    startActiveSpan: tracer.startActiveSpan.bind(tracer),
  } as Tracer);
  return {
    spans,
    async stop() {
      spy.mockRestore();
      await tracing.shutdown();
      trace.disable();
      diag.disable();
    },
  };
}
