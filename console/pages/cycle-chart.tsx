/** @jsxImportSource hono/jsx */
// The cycle history as a small inline SVG: one stacked bar per cycle (oldest left), one colour per
// action, with a table of the same numbers for screen readers and exact reading.
import type { Cycle } from '../types.ts';

export const CHART_ACTIONS = ['created', 'updated', 'disabled', 'deleted', 'failed', 'skipped'] as const;
const WIDTH = 600;
const HEIGHT = 120;

export function CycleChart({ cycles }: { cycles: Cycle[] }) {
  if (cycles.length === 0) return <p>No cycle has run yet.</p>;
  const ordered = [...cycles].reverse();
  const totals = ordered.map((cycle) => CHART_ACTIONS.reduce((sum, a) => sum + (cycle.counts[a] ?? 0), 0));
  const max = Math.max(1, ...totals);
  const slot = WIDTH / ordered.length;
  const barWidth = Math.max(2, Math.min(40, slot * 0.7));
  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT + 16}`} role="img" aria-labelledby="chart-title">
        <title id="chart-title">Objects per action in the last {ordered.length} cycles</title>
        {ordered.map((cycle, i) => {
          let y = HEIGHT;
          const x = i * slot + (slot - barWidth) / 2;
          return (
            <g>
              {CHART_ACTIONS.map((action) => {
                const n = cycle.counts[action] ?? 0;
                if (n === 0) return null;
                const h = Math.max(1, (n / max) * HEIGHT);
                y -= h;
                return (
                  <rect
                    class={`c-${action}`}
                    x={x.toFixed(1)}
                    y={y.toFixed(1)}
                    width={barWidth.toFixed(1)}
                    height={h.toFixed(1)}
                  >
                    <title>{`#${cycle.number}: ${n} ${action}`}</title>
                  </rect>
                );
              })}
              <text x={(x + barWidth / 2).toFixed(1)} y={HEIGHT + 12} text-anchor="middle" class="axis">
                {cycle.number}
              </text>
            </g>
          );
        })}
      </svg>
      <figcaption>
        {CHART_ACTIONS.map((action) => (
          <span class="legend">
            <span class={`swatch c-${action}`} aria-hidden="true"></span>
            {action}
          </span>
        ))}
      </figcaption>
      <details>
        <summary>Cycle table</summary>
        <div class="scroll">
          <table>
            <thead>
              <tr>
                <th scope="col">Cycle</th>
                <th scope="col">Kind</th>
                <th scope="col">Result</th>
                {CHART_ACTIONS.map((a) => (
                  <th scope="col">{a}</th>
                ))}
                <th scope="col">Started</th>
              </tr>
            </thead>
            <tbody>
              {cycles.map((cycle) => (
                <tr>
                  <td>{cycle.number}</td>
                  <td>{cycle.kind}</td>
                  <td>{cycle.status}</td>
                  {CHART_ACTIONS.map((a) => (
                    <td>{cycle.counts[a] ?? 0}</td>
                  ))}
                  <td>{cycle.startedAt}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </figure>
  );
}
