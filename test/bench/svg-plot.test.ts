import { latencyChart, VIEW } from '../../scripts/bench/svg-plot';

function polylines(svg: string): Array<{ points: Array<[number, number]>; dashed: boolean }> {
  return [...svg.matchAll(/<polyline ([^>]*)\/>/g)].map(([, attributes]) => ({
    dashed: attributes!.includes('stroke-dasharray'),
    points: /points="([^"]*)"/
      .exec(attributes!)![1]!
      .split(' ')
      .filter((pair) => pair !== '')
      .map((pair) => pair.split(',').map(Number) as [number, number]),
  }));
}

describe('the latency chart', () => {
  const series = [
    { name: 'end to end p50', values: [12, 15, 14, 13], color: 'blue' },
    { name: 'end to end p99', values: [40, 2500, 60, 55], color: 'red' },
    { name: 'pipe floor p99', values: [8, 9, 0.4, 10], color: 'red', dashed: true },
  ];

  it('draws one polyline per series with a point per second', () => {
    const lines = polylines(latencyChart({ title: 'round 1', series }));
    expect(lines.map((line) => line.points.length)).toEqual([4, 4, 4]);
    expect(lines.map((line) => line.dashed)).toEqual([false, false, true]);
  });

  it('keeps every point inside the plot area of the viewBox', () => {
    const svg = latencyChart({ title: 'round 1', series });
    expect(svg).toContain(`viewBox="0 0 ${VIEW.width} ${VIEW.height}"`);
    for (const [x, y] of polylines(svg).flatMap((line) => line.points)) {
      expect(x).toBeGreaterThanOrEqual(VIEW.left);
      expect(x).toBeLessThanOrEqual(VIEW.width - VIEW.right);
      expect(y).toBeGreaterThanOrEqual(VIEW.top);
      expect(y).toBeLessThanOrEqual(VIEW.height - VIEW.bottom);
    }
  });

  it('puts a larger latency higher on the chart', () => {
    const [p50, p99] = polylines(latencyChart({ title: 'round 1', series }));
    expect(p99!.points[1]![1]).toBeLessThan(p50!.points[1]![1]);
    expect(p99!.points[1]![1]).toBeLessThan(p99!.points[0]![1]);
  });

  it('leaves out a second with no latency (never delivered, or no events)', () => {
    const lines = polylines(latencyChart({ title: 'round 1', series: [{ name: 'p99', values: [10, Number.POSITIVE_INFINITY, Number.NaN, 20], color: 'red' }] }));
    expect(lines[0]!.points).toHaveLength(2);
  });

  it('labels both axes and names each series in a legend, escaping text', () => {
    const svg = latencyChart({ title: 'p99 <&> round', series });
    expect(svg).toContain('latency, ms (log scale)');
    expect(svg).toContain('second of the round');
    expect(svg).toContain('p99 &lt;&amp;&gt; round');
    for (const { name } of series) expect(svg).toContain(`>${name}</text>`);
  });
});
