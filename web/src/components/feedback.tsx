import { Alert, Bullseye, Button, EmptyState, EmptyStateBody, Spinner } from '@patternfly/react-core';
import type { ReactNode } from 'react';
import { ApiError, describeError } from '../api/client.ts';

/** An API error in words, with what the visitor can do about it. */
export function ErrorAlert({ error, title, onRetry }: { error: unknown; title: string; onRetry?: () => void }) {
  const hint = error instanceof ApiError
    ? error.status === 401 ? ' Sign in to see more.'
      : error.status === 403 ? ' Ask a registry-admin of the project for access.'
        : ''
    : '';
  return (
    <Alert
      variant={error instanceof ApiError && error.status === 404 ? 'warning' : 'danger'}
      isInline
      title={title}
      actionLinks={onRetry ? <Button variant="link" isInline onClick={onRetry}>Try again</Button> : undefined}
    >
      <p data-testid="error-message">{describeError(error)}{hint}</p>
    </Alert>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <Bullseye>
      <Spinner size="lg" aria-label={`Loading ${what}`} />
    </Bullseye>
  );
}

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <EmptyState titleText={title} headingLevel="h3" variant="sm">
      {children ? <EmptyStateBody>{children}</EmptyStateBody> : null}
    </EmptyState>
  );
}
