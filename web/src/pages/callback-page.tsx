import { Alert, Button, PageSection } from '@patternfly/react-core';
import { useEffect, useState } from 'react';
import { useLocation } from 'react-router';
import { useSession } from '../auth/session-context.tsx';
import { completeSignIn } from '../auth/session.ts';
import { Loading } from '../components/feedback.tsx';
import { describeError } from '../api/client.ts';
import { paths } from '../lib/routes.ts';

/** /console/callback: the OAuth server sends the browser here with `code` and `state`. */
export function CallbackPage() {
  const location = useLocation();
  const session = useSession();
  const [error, setError] = useState<unknown>(undefined);
  useEffect(() => {
    completeSignIn(location.search).then(
      // A full load, so the session provider starts from the stored token.
      (returnTo) => window.location.replace(returnTo.startsWith('/console/') ? returnTo : paths.projects()),
      setError,
    );
  }, [location.search]);
  if (error !== undefined) {
    return (
      <PageSection>
        <Alert variant="danger" title="Sign-in failed" actionLinks={<Button variant="link" isInline onClick={session.signIn}>Sign in again</Button>}>
          <p data-testid="error-message">{describeError(error)}</p>
        </Alert>
      </PageSection>
    );
  }
  return <PageSection><Loading what="your sign-in" /></PageSection>;
}
