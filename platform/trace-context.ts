import { createTraceState, isSpanContextValid, ROOT_CONTEXT, trace, TraceFlags, type Context, type Span, type SpanContext } from '@opentelemetry/api';

/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/): the `traceparent` and `tracestate`
 * headers, read from HTTP requests and Kafka records, which are network input like any other.
 * Parsed strictly and bounded: anything that is not exactly what the recommendation allows is
 * ignored, and the work then starts a trace of its own.
 */

/** Version 00 is 55 characters; a later version may append fields. Longer is refused unread. */
export const MAX_TRACEPARENT_LENGTH = 256;
/** The recommendation asks propagators to keep at least 512 characters; more is dropped whole. */
export const MAX_TRACESTATE_LENGTH = 512;
/** The recommendation's limit on list members. */
export const MAX_TRACESTATE_MEMBERS = 32;

// Lower-case hex only: the recommendation makes upper case invalid.
const TRACEPARENT_FIELDS = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const ALL_ZERO = /^0+$/;
// key = simple-key / tenant-id "@" system-id; value: printable ASCII but ',' and '=', no trailing space.
const TRACESTATE_MEMBER = /^(?:[a-z][_0-9a-z\-*/]{0,255}|[a-z0-9][_0-9a-z\-*/]{0,240}@[a-z][_0-9a-z\-*/]{0,13})=[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$/;

/** A header's value if it is one string (a repeated HTTP header is joined, a Kafka one an array: both refused). */
function single(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.length <= MAX_TRACESTATE_LENGTH ? value.toString('latin1') : undefined;
  return undefined;
}

/** The span context a `traceparent` names, or undefined when it is not a valid one. */
export function parseTraceparent(header: unknown): SpanContext | undefined {
  const value = single(header);
  if (value === undefined || value.length < 55 || value.length > MAX_TRACEPARENT_LENGTH) return undefined;
  // Version 00 is exactly its four fields; a later version is read by them, if a '-' follows.
  const fields = TRACEPARENT_FIELDS.exec(value.length === 55 ? value : value[55] === '-' ? value.slice(0, 55) : '');
  if (!fields) return undefined;
  const [, version, traceId, spanId, flags] = fields as unknown as [string, string, string, string, string];
  if (version === 'ff' || (version === '00' && value.length !== 55)) return undefined;
  if (ALL_ZERO.test(traceId) || ALL_ZERO.test(spanId)) return undefined;
  // Only the sampled bit is defined; the others are not passed on.
  return { traceId, spanId, traceFlags: Number.parseInt(flags, 16) & TraceFlags.SAMPLED, isRemote: true };
}

/** A `tracestate` whose every member is well-formed and that is within the bounds, or undefined. */
export function parseTracestate(header: unknown): string | undefined {
  const value = single(header);
  if (value === undefined || value.length === 0 || value.length > MAX_TRACESTATE_LENGTH) return undefined;
  const members = value.split(',').map((member) => member.trim()).filter((member) => member.length > 0);
  if (members.length === 0 || members.length > MAX_TRACESTATE_MEMBERS) return undefined;
  if (!members.every((member) => TRACESTATE_MEMBER.test(member))) return undefined;
  const keys = new Set(members.map((member) => member.slice(0, member.indexOf('='))));
  return keys.size === members.length ? members.join(',') : undefined;
}

export function formatTraceparent(context: SpanContext): string {
  return `00-${context.traceId}-${context.spanId}-${(context.traceFlags & TraceFlags.SAMPLED).toString(16).padStart(2, '0')}`;
}

/**
 * The context a received `traceparent` / `tracestate` pair continues: the root context (a new
 * trace) when the traceparent is absent or invalid. A tracestate without a valid traceparent
 * is ignored, as the recommendation requires.
 */
export function extractContext(traceparent: unknown, tracestate: unknown): Context {
  const parent = parseTraceparent(traceparent);
  if (!parent) return ROOT_CONTEXT;
  const state = parseTracestate(tracestate);
  return trace.setSpanContext(ROOT_CONTEXT, state === undefined ? parent : { ...parent, traceState: createTraceState(state) });
}

/** A trace context as it travels in headers (and is kept with an outbox row). */
// A type, not an interface: it must fit kafkajs's IHeaders, whose index signature an interface does not meet.
export type TraceHeaders = { readonly traceparent?: string; readonly tracestate?: string };

/**
 * The headers that carry `span`'s context on: none for a span of no trace. With no SDK
 * registered (tracing off) a span started under a received context is that context, so the
 * received traceparent is passed on unchanged, and nothing is written when none was received.
 */
export function contextHeaders(span: Span): TraceHeaders {
  const context = span.spanContext();
  if (!isSpanContextValid(context)) return {};
  const state = context.traceState?.serialize();
  return state ? { traceparent: formatTraceparent(context), tracestate: state } : { traceparent: formatTraceparent(context) };
}
