import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app/App';
import { applyTheme, savedTheme } from './app/prefs';
import { initI18n } from './i18n';
import './styles.css';

applyTheme(savedTheme());
initI18n();
createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
