import { ROOT_CONTEXT, trace, TraceFlags } from '@opentelemetry/api';
import {
  contextHeaders,
  extractContext,
  formatTraceparent,
  MAX_TRACEPARENT_LENGTH,
  MAX_TRACESTATE_LENGTH,
  MAX_TRACESTATE_MEMBERS,
  parseTraceparent,
  parseTracestate,
} from '../../platform/trace-context';

// The examples of the W3C Trace Context recommendation.
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN_ID = '00f067aa0ba902b7';
const VALID = `00-${TRACE_ID}-${SPAN_ID}-01`;

describe('parseTraceparent', () => {
  it('reads a version 00 traceparent, sampled or not', () => {
    expect(parseTraceparent(VALID)).toEqual({ traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: TraceFlags.SAMPLED, isRemote: true });
    expect(parseTraceparent(`00-${TRACE_ID}-${SPAN_ID}-00`)?.traceFlags).toBe(TraceFlags.NONE);
  });

  it('reads a Kafka header given as bytes', () => {
    expect(parseTraceparent(Buffer.from(VALID))?.traceId).toBe(TRACE_ID);
  });

  it('keeps only the sampled flag of the flags byte', () => {
    expect(parseTraceparent(`00-${TRACE_ID}-${SPAN_ID}-ff`)?.traceFlags).toBe(TraceFlags.SAMPLED);
  });

  it('reads the known fields of a later version and ignores what it appends', () => {
    expect(parseTraceparent(`01-${TRACE_ID}-${SPAN_ID}-01-what-the-future-holds`)?.spanId).toBe(SPAN_ID);
  });

  it.each([
    ['upper-case hex', `00-${TRACE_ID.toUpperCase()}-${SPAN_ID}-01`],
    ['an all-zero trace id', `00-${'0'.repeat(32)}-${SPAN_ID}-01`],
    ['an all-zero parent id', `00-${TRACE_ID}-${'0'.repeat(16)}-01`],
    ['version ff', `ff-${TRACE_ID}-${SPAN_ID}-01`],
    ['version 00 with more fields', `${VALID}-extra`],
    ['a later version with junk right after the flags', `01-${TRACE_ID}-${SPAN_ID}-01x`],
    ['a short trace id', `00-${TRACE_ID.slice(1)}-${SPAN_ID}-01`],
    ['a non-hex character', `00-${TRACE_ID.slice(0, 31)}g-${SPAN_ID}-01`],
    ['surrounding spaces', ` ${VALID} `],
    ['two headers joined by node:http', `${VALID}, ${VALID}`],
    ['an empty value', ''],
  ])('refuses %s', (_name, value) => {
    expect(parseTraceparent(value)).toBeUndefined();
  });

  it('refuses a value past its bound without reading it', () => {
    const long = `01-${TRACE_ID}-${SPAN_ID}-01-${'a'.repeat(MAX_TRACEPARENT_LENGTH)}`;
    expect(parseTraceparent(long)).toBeUndefined();
    expect(parseTraceparent(long.slice(0, MAX_TRACEPARENT_LENGTH))?.traceId).toBe(TRACE_ID);
  });

  it('refuses what is not one string or buffer: a repeated Kafka header, a number', () => {
    expect(parseTraceparent([Buffer.from(VALID), Buffer.from(VALID)])).toBeUndefined();
    expect(parseTraceparent(42)).toBeUndefined();
    expect(parseTraceparent(undefined)).toBeUndefined();
  });

  it('round-trips through formatTraceparent', () => {
    expect(formatTraceparent(parseTraceparent(VALID)!)).toBe(VALID);
  });
});

describe('parseTracestate', () => {
  it('keeps well-formed members, trimming the optional spaces around commas', () => {
    expect(parseTracestate('rojo=00f067aa0ba902b7 , congo=t61rcWkgMzE')).toBe('rojo=00f067aa0ba902b7,congo=t61rcWkgMzE');
    expect(parseTracestate('fw529a3039@dt=FFFF4bd3,abc-d_e*f/g=v')).toBe('fw529a3039@dt=FFFF4bd3,abc-d_e*f/g=v');
  });

  it.each([
    ['an upper-case key', 'Rojo=1'],
    ['a member without a value', 'rojo'],
    ['a value with an equals sign', 'rojo=a=b'],
    ['a control character', 'rojo=a\u0001'],
    ['a key given twice', 'rojo=1,rojo=2'],
    ['an empty list', ' , '],
  ])('drops the whole header for %s', (_name, value) => {
    expect(parseTracestate(value)).toBeUndefined();
  });

  it(`drops more than ${MAX_TRACESTATE_MEMBERS} members, or more than ${MAX_TRACESTATE_LENGTH} characters`, () => {
    const members = (count: number) => Array.from({ length: count }, (_, index) => `k${index}=v`).join(',');
    expect(parseTracestate(members(MAX_TRACESTATE_MEMBERS))).toBe(members(MAX_TRACESTATE_MEMBERS));
    expect(parseTracestate(members(MAX_TRACESTATE_MEMBERS + 1))).toBeUndefined();
    const wide = (count: number) => Array.from({ length: count }, (_, index) => `k${index}=${'v'.repeat(200)}`).join(',');
    expect(parseTracestate(wide(2))).toBe(wide(2));
    expect(wide(3).length).toBeGreaterThan(MAX_TRACESTATE_LENGTH);
    expect(parseTracestate(wide(3))).toBeUndefined();
    expect(parseTracestate(Buffer.alloc(MAX_TRACESTATE_LENGTH + 1, 'a'))).toBeUndefined();
  });
});

describe('extractContext and contextHeaders (no SDK registered: tracing off)', () => {
  const tracer = trace.getTracer('test');

  it('passes a received traceparent and tracestate on unchanged', () => {
    const span = tracer.startSpan('work', {}, extractContext(VALID, 'congo=t61rcWkgMzE'));
    expect(contextHeaders(span)).toEqual({ traceparent: VALID, tracestate: 'congo=t61rcWkgMzE' });
  });

  it('writes no headers when nothing valid was received, and ignores a tracestate without a traceparent', () => {
    expect(extractContext('00-garbage', 'congo=t61rcWkgMzE')).toBe(ROOT_CONTEXT);
    expect(contextHeaders(tracer.startSpan('work', {}, extractContext(undefined, 'congo=t61rcWkgMzE')))).toEqual({});
  });

  it('passes the traceparent on without a tracestate that is malformed', () => {
    expect(contextHeaders(tracer.startSpan('work', {}, extractContext(VALID, 'Bad=1')))).toEqual({ traceparent: VALID });
  });
});
