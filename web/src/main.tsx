import '@patternfly/react-core/dist/styles/base.css';
import './console.css';
import { createRoot } from 'react-dom/client';
import { BrowserRouter } from 'react-router';
import { App } from './app.tsx';
import { SessionProvider } from './auth/session-context.tsx';
import { ErrorBoundary } from './components/error-boundary.tsx';

const root = document.getElementById('root');
if (!root) throw new Error('no #root element');
createRoot(root).render(
  <ErrorBoundary>
    <BrowserRouter>
      <SessionProvider>
        <App />
      </SessionProvider>
    </BrowserRouter>
  </ErrorBoundary>,
);
