export { run, type Io } from './main.js';
export { renderReading, renderStats } from './format.js';
