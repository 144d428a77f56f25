/**
 * A map (Leaflet) for tracker pages: markers, polylines, circles and polygons, fitted to what
 * it shows, with click handlers. Every tracker page (positions, playback, fleet, geofences)
 * draws through it, so the library stays behind this one component.
 *
 * Tiles come from the server's config (`web.map.tiles`, GET /api/v1/map); without them (the
 * default), or while none has loaded and some failed (offline), the map is drawn on a blank
 * background with a graticule and a scale, so it still reads as a map and tests need no
 * internet.
 *
 * Markers are kept by id between renders (a moving marker is moved, not redrawn). Up to
 * SVG_MARKERS markers are SVG paths carrying `data-marker` (the id), so tests and assistive
 * tools can find them; more (a fleet of thousands) are drawn on one canvas.
 *
 * A caller needing more (an editor dragging a circle's edge) gets the Leaflet map itself
 * through `onReady`, and draws and removes its own layers there.
 */
import L from 'leaflet';
import 'leaflet/dist/leaflet.css';
import { useEffect, useRef, type ReactNode } from 'react';
import { useApi } from '../../api/hooks';
import type { MapConfigView } from '@openbms/contract/api';
import { graticuleStep } from './geo';
import './trackers.css';

export type LatLon = readonly [lat: number, lon: number];

export interface MapMarker {
  id: string;
  lat: number;
  lon: number;
  /** CSS colour (default the accent). */
  color?: string;
  /** Shown on hover. */
  label?: string;
  /** Drawn larger, with a ring. */
  selected?: boolean;
}

export interface MapLine {
  id: string;
  points: readonly LatLon[];
  color?: string;
  weight?: number;
  dashed?: boolean;
}

export type MapShape =
  | { kind: 'circle'; id: string; lat: number; lon: number; radiusM: number; color?: string }
  | { kind: 'polygon'; id: string; points: readonly LatLon[]; color?: string };

export interface MapTiles {
  /** `https://host/{z}/{x}/{y}.png` (`{s}` for subdomains). */
  url: string;
  attribution?: string;
  maxZoom?: number;
}

export interface MapViewProps {
  markers?: readonly MapMarker[];
  lines?: readonly MapLine[];
  shapes?: readonly MapShape[];
  /** When this changes (and at the first draw) the view fits everything drawn. */
  fitKey?: string | number;
  /** Keep this point in view (a moving marker): panned to when it leaves the view. */
  follow?: LatLon;
  /** Tiles; absent: the server's config; null: none (graticule). */
  tiles?: MapTiles | null;
  onMarkerClick?: (id: string) => void;
  onShapeClick?: (id: string) => void;
  onMapClick?: (lat: number, lon: number) => void;
  /** The Leaflet map, once made (free drawing); the returned function runs when it goes. */
  onReady?: (map: L.Map) => void | (() => void);
  /** Accessible name of the map region. */
  label: string;
  className?: string;
  testId?: string;
  children?: ReactNode;
}

/** Markers drawn as SVG (each its own element); past this, one canvas. */
export const SVG_MARKERS = 300;

const ACCENT = '#0f7b55';
const NO_MARKERS: readonly MapMarker[] = [];
const NO_LINES: readonly MapLine[] = [];
const NO_SHAPES: readonly MapShape[] = [];

/** The configured tiles (GET /map), undefined while loading, null when there are none. */
export function useMapTiles(): MapTiles | null | undefined {
  const r = useApi<MapConfigView>('/map');
  if (r.error) return null;
  if (!r.data) return undefined;
  const t = r.data.tiles;
  return t ? { url: t, attribution: r.data.attribution, maxZoom: r.data.max_zoom } : null;
}

/** Leaflet puts the attribution in as HTML: the config's text is shown as text. */
const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const toLatLngs = (ps: readonly LatLon[]): L.LatLngTuple[] => ps.map((p) => [p[0], p[1]]);

interface Drawn {
  map: L.Map;
  markers: Map<string, L.CircleMarker>;
  overlays: L.LayerGroup;
  graticule: L.LayerGroup;
  tiles?: L.TileLayer;
  /** No tile has loaded and some failed (offline, blocked): the graticule is drawn too. */
  tilesDown: boolean;
  svg: L.Renderer;
  canvas: L.Renderer;
}

function markerStyle(m: MapMarker): L.CircleMarkerOptions {
  const color = m.color ?? ACCENT;
  return {
    radius: m.selected ? 9 : 6,
    color: m.selected ? '#ffffff' : color,
    weight: m.selected ? 3 : 1.5,
    fillColor: color,
    fillOpacity: 0.9,
  };
}

function drawGraticule(d: Drawn): void {
  d.graticule.clearLayers();
  const b = d.map.getBounds();
  const step = graticuleStep(b.getEast() - b.getWest());
  const style: L.PolylineOptions = {
    color: '#8a97a3',
    weight: 1,
    opacity: 0.35,
    interactive: false,
    renderer: d.svg,
    className: 'map-graticule',
  };
  const south = Math.max(-85, b.getSouth() - step);
  const north = Math.min(85, b.getNorth() + step);
  const west = b.getWest() - step;
  const east = b.getEast() + step;
  for (let x = Math.floor(west / step) * step; x <= east; x += step)
    d.graticule.addLayer(
      L.polyline(
        [
          [south, x],
          [north, x],
        ],
        style,
      ),
    );
  for (let y = Math.floor(south / step) * step; y <= north; y += step)
    d.graticule.addLayer(
      L.polyline(
        [
          [y, west],
          [y, east],
        ],
        style,
      ),
    );
}

export function MapView(props: MapViewProps): ReactNode {
  const box = useRef<HTMLDivElement>(null);
  const drawn = useRef<Drawn | undefined>(undefined);
  const handlers = useRef(props);
  handlers.current = props;
  const configured = useMapTiles();
  const tiles = props.tiles !== undefined ? props.tiles : configured;
  const fitted = useRef<string | number | undefined>(undefined);

  // The map itself, once.
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const map = L.map(el, { worldCopyJump: true, zoomControl: true, attributionControl: true });
    map.attributionControl.setPrefix(false);
    map.setView([20, 0], 2);
    L.control.scale({ imperial: false }).addTo(map);
    const d: Drawn = {
      map,
      markers: new Map(),
      overlays: L.layerGroup().addTo(map),
      graticule: L.layerGroup().addTo(map),
      tilesDown: false,
      svg: L.svg(),
      canvas: L.canvas({ padding: 0.2 }),
    };
    drawn.current = d;
    map.on('click', (e: L.LeafletMouseEvent) =>
      handlers.current.onMapClick?.(e.latlng.lat, e.latlng.lng),
    );
    const regrid = () => {
      if (!d.tiles || d.tilesDown) drawGraticule(d);
    };
    map.on('moveend zoomend resize', regrid);
    regrid();
    const gone = handlers.current.onReady?.(map);
    // The box may be laid out after the first paint (tabs, flex): measure again when it changes.
    const resize = new ResizeObserver(() => map.invalidateSize());
    resize.observe(el);
    return () => {
      resize.disconnect();
      if (typeof gone === 'function') gone();
      map.remove();
      drawn.current = undefined;
      fitted.current = undefined;
    };
  }, []);

  // Tiles, or the graticule without them (keyed by their settings, not the object).
  const tilesKey = tiles === undefined ? undefined : JSON.stringify(tiles);
  useEffect(() => {
    const d = drawn.current;
    if (!d || tilesKey === undefined) return;
    const t = JSON.parse(tilesKey) as MapTiles | null;
    d.tiles?.remove();
    delete d.tiles;
    d.tilesDown = false;
    if (t) {
      d.graticule.clearLayers();
      let loaded = false;
      d.tilesDown = false;
      d.tiles = L.tileLayer(t.url, {
        attribution: escapeHtml(t.attribution ?? ''),
        maxZoom: t.maxZoom ?? 19,
      })
        .on('tileload', () => {
          loaded = true;
          if (d.tilesDown) {
            d.tilesDown = false;
            d.graticule.clearLayers();
          }
        })
        .on('tileerror', () => {
          if (loaded || d.tilesDown) return;
          d.tilesDown = true;
          drawGraticule(d);
        })
        .addTo(d.map);
      d.tiles.bringToBack();
    } else {
      drawGraticule(d);
    }
  }, [tilesKey]);

  // Markers, kept by id.
  const markers = props.markers ?? NO_MARKERS;
  useEffect(() => {
    const d = drawn.current;
    if (!d) return;
    const renderer = markers.length > SVG_MARKERS ? d.canvas : d.svg;
    const seen = new Set<string>();
    for (const m of markers) {
      seen.add(m.id);
      let c = d.markers.get(m.id);
      if (c && c.options.renderer !== renderer) {
        c.remove();
        d.markers.delete(m.id);
        c = undefined;
      }
      if (!c) {
        c = L.circleMarker([m.lat, m.lon], {
          ...markerStyle(m),
          renderer,
          bubblingMouseEvents: false,
        });
        c.on('click', () => handlers.current.onMarkerClick?.(m.id));
        c.addTo(d.map);
        d.markers.set(m.id, c);
      } else {
        c.setLatLng([m.lat, m.lon]);
        c.setStyle(markerStyle(m));
        c.setRadius(markerStyle(m).radius ?? 6);
      }
      if (m.label) c.bindTooltip(m.label);
      else c.unbindTooltip();
      if (m.selected) c.bringToFront();
      const el = c.getElement();
      if (el) {
        el.setAttribute('data-marker', m.id);
        el.setAttribute('data-lat', String(m.lat));
        el.setAttribute('data-lon', String(m.lon));
        el.setAttribute('data-selected', m.selected ? 'true' : 'false');
      }
    }
    for (const [id, c] of d.markers)
      if (!seen.has(id)) {
        c.remove();
        d.markers.delete(id);
      }
  }, [markers]);

  // Lines and shapes: few, redrawn whole.
  const lines = props.lines ?? NO_LINES;
  const shapes = props.shapes ?? NO_SHAPES;
  useEffect(() => {
    const d = drawn.current;
    if (!d) return;
    d.overlays.clearLayers();
    for (const l of lines) {
      const p = L.polyline(toLatLngs(l.points), {
        color: l.color ?? '#2a6fdb',
        weight: l.weight ?? 4,
        opacity: 0.85,
        renderer: d.svg,
        interactive: false,
        ...(l.dashed ? { dashArray: '6 6' } : {}),
      });
      d.overlays.addLayer(p);
      p.getElement()?.setAttribute('data-line', l.id);
    }
    for (const s of shapes) {
      const style: L.PathOptions = {
        color: s.color ?? '#c47a00',
        weight: 2,
        fillOpacity: 0.12,
        renderer: d.svg,
        bubblingMouseEvents: false,
      };
      const layer =
        s.kind === 'circle'
          ? L.circle([s.lat, s.lon], { ...style, radius: s.radiusM })
          : L.polygon(toLatLngs(s.points), style);
      layer.on('click', () => handlers.current.onShapeClick?.(s.id));
      d.overlays.addLayer(layer);
      layer.getElement()?.setAttribute('data-shape', s.id);
    }
  }, [lines, shapes]);

  // Fit to everything drawn when the key changes (and the first time there is something).
  useEffect(() => {
    const d = drawn.current;
    if (!d || fitted.current === (props.fitKey ?? 'first')) return;
    const b = L.latLngBounds([]);
    for (const m of markers) b.extend([m.lat, m.lon]);
    for (const l of lines) for (const p of l.points) b.extend([p[0], p[1]]);
    for (const s of shapes)
      if (s.kind === 'circle') b.extend(L.latLng(s.lat, s.lon).toBounds(s.radiusM * 2));
      else for (const p of s.points) b.extend([p[0], p[1]]);
    if (!b.isValid()) return;
    fitted.current = props.fitKey ?? 'first';
    d.map.fitBounds(b, { padding: [24, 24], maxZoom: 16, animate: false });
  }, [props.fitKey, markers, lines, shapes]);

  // Keep a moving point in view.
  const followLat = props.follow?.[0];
  const followLon = props.follow?.[1];
  useEffect(() => {
    const d = drawn.current;
    if (!d || followLat === undefined || followLon === undefined) return;
    const p = L.latLng(followLat, followLon);
    if (!d.map.getBounds().pad(-0.1).contains(p)) d.map.panTo(p, { animate: false });
  }, [followLat, followLon]);

  return (
    <div className={`map-frame ${props.className ?? ''}`}>
      <div
        ref={box}
        className="map-view"
        role="region"
        aria-label={props.label}
        data-testid={props.testId ?? 'map'}
        data-tiles={tiles ? 'on' : 'off'}
      />
      {props.children}
    </div>
  );
}
