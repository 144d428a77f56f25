/**
 * The plants on a plain latitude/longitude plot (equirectangular), fitted to where they are,
 * with a graticule. Hand-drawn SVG rather than a map library: the console has none, the
 * large screen needs only dots on a grid, and no tile server is contacted (a screen in a
 * control room is often offline).
 */
import type { ReactNode } from 'react';
import type { PlantView } from '@openbms/contract/api';

interface Located {
  id: string;
  name: string;
  lat: number;
  lon: number;
}

/** The box to draw: the plants' extent with a margin, at least 20° wide and 10° high. */
export function frame(points: readonly { lat: number; lon: number }[]): {
  west: number;
  east: number;
  south: number;
  north: number;
} {
  const lons = points.map((p) => p.lon);
  const lats = points.map((p) => p.lat);
  let west = Math.min(...lons);
  let east = Math.max(...lons);
  let south = Math.min(...lats);
  let north = Math.max(...lats);
  const padX = Math.max((east - west) * 0.12, (20 - (east - west)) / 2, 2);
  const padY = Math.max((north - south) * 0.15, (10 - (north - south)) / 2, 2);
  west = Math.max(-180, west - padX);
  east = Math.min(180, east + padX);
  south = Math.max(-90, south - padY);
  north = Math.min(90, north + padY);
  return { west, east, south, north };
}

/** A grid step giving about 4-8 lines across a span of degrees. */
const step = (span: number): number =>
  [1, 2, 5, 10, 15, 30, 45, 60].find((s) => span / s <= 8) ?? 90;

export function PlantMap(props: { plants: readonly PlantView[]; label: string }): ReactNode {
  const located: Located[] = props.plants.flatMap((p) =>
    p.lat !== undefined && p.lon !== undefined
      ? [{ id: p.id, name: p.name, lat: p.lat, lon: p.lon }]
      : [],
  );
  if (located.length === 0) return null;
  const f = frame(located);
  const W = 1000;
  const H = Math.max(300, Math.min(700, (W * (f.north - f.south)) / (f.east - f.west)));
  const x = (lon: number) => ((lon - f.west) / (f.east - f.west)) * W;
  const y = (lat: number) => ((f.north - lat) / (f.north - f.south)) * H;
  const sx = step(f.east - f.west);
  const sy = step(f.north - f.south);
  const lines: ReactNode[] = [];
  for (let lon = Math.ceil(f.west / sx) * sx; lon <= f.east; lon += sx)
    lines.push(
      <g key={`lon${lon}`}>
        <line x1={x(lon)} x2={x(lon)} y1={0} y2={H} />
        <text x={x(lon) + 4} y={H - 6}>
          {`${Math.abs(lon)}°${lon < 0 ? 'W' : lon > 0 ? 'E' : ''}`}
        </text>
      </g>,
    );
  for (let lat = Math.ceil(f.south / sy) * sy; lat <= f.north; lat += sy)
    lines.push(
      <g key={`lat${lat}`}>
        <line x1={0} x2={W} y1={y(lat)} y2={y(lat)} />
        <text x={4} y={y(lat) - 4}>
          {`${Math.abs(lat)}°${lat < 0 ? 'S' : lat > 0 ? 'N' : ''}`}
        </text>
      </g>,
    );
  return (
    <svg
      className="plant-map"
      viewBox={`0 0 ${W} ${H}`}
      preserveAspectRatio="xMidYMid meet"
      role="img"
      aria-label={props.label}
      data-testid="plant-map"
    >
      <rect x={0} y={0} width={W} height={H} className="plant-map-sea" />
      <g className="plant-map-grid">{lines}</g>
      {located.map((p) => (
        <g key={p.id} className="plant-map-dot" data-testid={`plant-dot-${p.name}`}>
          <title>{`${p.name} (${p.lat.toFixed(2)}, ${p.lon.toFixed(2)})`}</title>
          <circle cx={x(p.lon)} cy={y(p.lat)} r={9} />
          {/* Labels right of the dot, or left of it near the right edge. */}
          <text
            x={x(p.lon) > W * 0.75 ? x(p.lon) - 14 : x(p.lon) + 14}
            y={y(p.lat) + 6}
            textAnchor={x(p.lon) > W * 0.75 ? 'end' : 'start'}
          >
            {p.name}
          </text>
        </g>
      ))}
    </svg>
  );
}
