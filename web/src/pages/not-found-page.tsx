import { PageSection, Title } from '@patternfly/react-core';
import { Link, useLocation } from 'react-router';
import { paths } from '../lib/routes.ts';

export function NotFoundPage() {
  const location = useLocation();
  return (
    <PageSection>
      <Title headingLevel="h1">Page not found</Title>
      <p className="berth-gap">The console has no page at <code>{location.pathname}</code>. <Link to={paths.projects()}>Go to the projects</Link>.</p>
    </PageSection>
  );
}
