import {
  Alert, Brand, Button, Masthead, MastheadBrand, MastheadContent, MastheadLogo, MastheadMain, MastheadToggle,
  Nav, NavItem, NavList, Page, PageSidebar, PageSidebarBody, PageToggleButton, SearchInput, SkipToContent,
  Toolbar, ToolbarContent, ToolbarGroup, ToolbarItem,
} from '@patternfly/react-core';
import { useEffect, useState } from 'react';
import { Link, Navigate, Route, Routes, useLocation, useNavigate, useSearchParams } from 'react-router';
import { useSession } from './auth/session-context.tsx';
import { ErrorBoundary } from './components/error-boundary.tsx';
import { CONSOLE, paths } from './lib/routes.ts';
import { CallbackPage } from './pages/callback-page.tsx';
import { NotFoundPage } from './pages/not-found-page.tsx';
import { ProjectPage } from './pages/project-page.tsx';
import { ProjectsPage } from './pages/projects-page.tsx';
import { SearchPage } from './pages/search-page.tsx';
import { StreamRoute } from './pages/stream-route.tsx';

const MAIN_ID = 'berth-main';

function HeaderSearch() {
  const navigate = useNavigate();
  const location = useLocation();
  const [params] = useSearchParams();
  const onSearchPage = location.pathname === paths.search();
  const [value, setValue] = useState(onSearchPage ? params.get('q') ?? '' : '');
  useEffect(() => { if (onSearchPage) setValue(params.get('q') ?? ''); }, [onSearchPage, params]);
  return (
    <SearchInput
      aria-label="Search image streams"
      placeholder="Search image streams"
      value={value}
      onChange={(_e, v) => setValue(v)}
      onSearch={(_e, v) => void navigate(paths.search(v.trim()))}
      onClear={() => setValue('')}
    />
  );
}

function Header() {
  const session = useSession();
  return (
    <Masthead>
      <MastheadMain>
        <MastheadToggle>
          <PageToggleButton isHamburgerButton aria-label="Main navigation" />
        </MastheadToggle>
        <MastheadBrand>
          <MastheadLogo component={(props) => <Link {...props} to={paths.projects()} className="berth-brand" />}>
            <Brand src={`${CONSOLE}/favicon.svg`} alt="" widths={{ default: '28px' }} />
            <span>Berth</span>
          </MastheadLogo>
        </MastheadBrand>
      </MastheadMain>
      <MastheadContent>
        <Toolbar isFullHeight isStatic>
          <ToolbarContent>
            <ToolbarItem>
              <HeaderSearch />
            </ToolbarItem>
            <ToolbarGroup align={{ default: 'alignEnd' }}>
              {session.user ? (
                <>
                  <ToolbarItem>
                    <span className="berth-user" data-testid="signed-in-user"><span className="pf-v6-screen-reader">Signed in as </span>{session.user.metadata.name}</span>
                  </ToolbarItem>
                  <ToolbarItem>
                    <Button variant="secondary" onClick={() => void session.signOut()}>Sign out</Button>
                  </ToolbarItem>
                </>
              ) : (
                <ToolbarItem>
                  <Button variant="primary" onClick={session.signIn} isLoading={session.loading} isDisabled={session.loading}>Sign in</Button>
                </ToolbarItem>
              )}
            </ToolbarGroup>
          </ToolbarContent>
        </Toolbar>
      </MastheadContent>
    </Masthead>
  );
}

function Sidebar() {
  const location = useLocation();
  const active = (prefix: string): boolean => location.pathname === prefix || location.pathname.startsWith(`${prefix}/`);
  return (
    <PageSidebar>
      <PageSidebarBody>
        <Nav aria-label="Console">
          <NavList>
            <NavItem isActive={active(paths.projects())}>
              <Link to={paths.projects()} aria-current={active(paths.projects()) ? 'page' : undefined}>Projects</Link>
            </NavItem>
            <NavItem isActive={active(paths.search())}>
              <Link to={paths.search()} aria-current={active(paths.search()) ? 'page' : undefined}>Search</Link>
            </NavItem>
          </NavList>
        </Nav>
      </PageSidebarBody>
    </PageSidebar>
  );
}

export function App() {
  const session = useSession();
  const location = useLocation();
  return (
    <Page
      masthead={<Header />}
      sidebar={<Sidebar />}
      isManagedSidebar
      skipToContent={<SkipToContent href={`#${MAIN_ID}`}>Skip to content</SkipToContent>}
      mainContainerId={MAIN_ID}
    >
      {session.problem ? <Alert variant="info" isInline title={session.problem} /> : null}
      <ErrorBoundary resetKey={`${location.pathname}${location.search}`}>
        <Routes>
          <Route path="/" element={<Navigate to={paths.projects()} replace />} />
          <Route path={CONSOLE} element={<Navigate to={paths.projects()} replace />} />
          <Route path={paths.callback()} element={<CallbackPage />} />
          <Route path={paths.projects()} element={<ProjectsPage />} />
          <Route path={`${CONSOLE}/projects/:project`} element={<ProjectPage tab="imagestreams" />} />
          <Route path={`${CONSOLE}/projects/:project/members`} element={<ProjectPage tab="members" />} />
          <Route path={`${CONSOLE}/projects/:project/imagestreams/*`} element={<StreamRoute />} />
          <Route path={paths.search()} element={<SearchPage />} />
          <Route path="*" element={<NotFoundPage />} />
        </Routes>
      </ErrorBoundary>
    </Page>
  );
}
