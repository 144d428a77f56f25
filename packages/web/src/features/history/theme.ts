/** Chart colours from the theme: shared with the energy chart, so they live in ui/. */
export {
  SERIES_COLOURS,
  cssVar,
  seriesVar,
  useThemeVersion,
  withAlpha,
} from '../../ui/chart-theme';
