import { Alert, Button, PageSection } from '@patternfly/react-core';
import { Component, type ErrorInfo, type ReactNode } from 'react';
import { describeError } from '../api/client.ts';

/**
 * The last line against a blank page: a page that throws while rendering
 * (an answer of a shape it did not expect, a bug) shows what went wrong in
 * words, with a way on, instead of unmounting the whole console. When
 * `resetKey` changes (the location), it tries its children again, so the
 * rest of the console stays usable.
 */
export class ErrorBoundary extends Component<{ children: ReactNode; resetKey?: string }, { error: unknown; failed: boolean }> {
  override state = { error: undefined as unknown, failed: false };

  static getDerivedStateFromError(error: unknown): { error: unknown; failed: boolean } {
    return { error, failed: true };
  }

  override componentDidCatch(error: unknown, info: ErrorInfo): void {
    // The browser console is where a developer looks; the page says it in words.
    console.error('console page failed to render', error, info.componentStack);
  }

  override componentDidUpdate(previous: { resetKey?: string }): void {
    if (this.state.failed && previous.resetKey !== this.props.resetKey) this.setState({ error: undefined, failed: false });
  }

  override render(): ReactNode {
    if (!this.state.failed) return this.props.children;
    return (
      <PageSection>
        <Alert
          variant="danger"
          title="This page could not be shown"
          actionLinks={
            <>
              <Button variant="link" isInline onClick={() => window.location.reload()}>Reload the page</Button>
              {' '}
              <Button variant="link" isInline component="a" href="/console/projects">Go to the projects</Button>
            </>
          }
        >
          <p data-testid="error-message">The console hit a problem showing it: {describeError(this.state.error)}</p>
        </Alert>
      </PageSection>
    );
  }
}
