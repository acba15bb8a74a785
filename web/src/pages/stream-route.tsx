import { useParams } from 'react-router';
import { parseStreamPath } from '../lib/routes.ts';
import { StreamPage } from './stream-page.tsx';
import { TagPage } from './tag-page.tsx';

/** `/console/projects/:project/imagestreams/<name>[/-/tags/<tag>]`: see lib/routes.ts. */
export function StreamRoute() {
  const { project = '', '*': splat = '' } = useParams();
  const { stream, tag } = parseStreamPath(splat);
  return tag === undefined ? <StreamPage project={project} stream={stream} /> : <TagPage project={project} stream={stream} tag={tag} />;
}
