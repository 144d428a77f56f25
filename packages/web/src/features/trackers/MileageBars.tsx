/** Kilometres per period as SVG bars (scaled to the largest), each with its value on hover. */
import type { ReactNode } from 'react';

export interface Bar {
  key: number;
  label: string;
  km: number;
}

const W = 640;
const H = 180;
const AXIS = 20;

export function MileageBars(props: { bars: readonly Bar[]; label: string }): ReactNode {
  const max = Math.max(...props.bars.map((b) => b.km), 0);
  const n = Math.max(props.bars.length, 1);
  const slot = W / n;
  const every = Math.ceil(n / 12); // at most about 12 labels
  return (
    <svg
      className="mileage-bars"
      viewBox={`0 0 ${W} ${H + AXIS}`}
      role="img"
      aria-label={props.label}
      data-testid="mileage-bars"
    >
      {props.bars.map((b, i) => {
        const h = max > 0 ? (b.km / max) * (H - 10) : 0;
        return (
          <g key={b.key}>
            <rect
              x={i * slot + slot * 0.15}
              y={H - h}
              width={slot * 0.7}
              height={h}
              className="mileage-bar"
              data-km={b.km}
            >
              <title>{`${b.label}: ${b.km.toFixed(2)} km`}</title>
            </rect>
            {i % every === 0 && (
              <text
                x={i * slot + slot / 2}
                y={H + 14}
                textAnchor="middle"
                className="mileage-label"
              >
                {b.label}
              </text>
            )}
          </g>
        );
      })}
      <line x1={0} x2={W} y1={H} y2={H} className="mileage-axis" />
    </svg>
  );
}
