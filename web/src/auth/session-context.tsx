import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { api, onSignedOut } from '../api/client.ts';
import type { CurrentUser } from '../api/types.ts';
import { beginSignIn, loadTokens, signOut as revokeAndForget } from './session.ts';

export interface Session {
  /** The signed-in user (from users/~), undefined for an anonymous visitor. */
  readonly user: CurrentUser | undefined;
  /** True until users/~ has answered for a stored token. */
  readonly loading: boolean;
  /** A problem with the stored login (e.g. it was revoked), in words. */
  readonly problem: string | undefined;
  signIn(): void;
  signOut(): Promise<void>;
}

const SessionContext = createContext<Session | undefined>(undefined);

export function SessionProvider({ children }: { children: ReactNode }) {
  const [user, setUser] = useState<CurrentUser | undefined>(undefined);
  const [loading, setLoading] = useState<boolean>(() => loadTokens() !== undefined);
  const [problem, setProblem] = useState<string | undefined>(undefined);
  const [version, setVersion] = useState(0);

  useEffect(() => onSignedOut(() => {
    setUser(undefined);
    setProblem('Your sign-in has expired or was revoked. You now see what anyone may see.');
  }), []);

  useEffect(() => {
    if (!loadTokens()) {
      setUser(undefined);
      setLoading(false);
      return;
    }
    let live = true;
    setLoading(true);
    api<CurrentUser>('users/~').then(
      (me) => { if (live) { setUser(loadTokens() ? me : undefined); setLoading(false); } },
      () => { if (live) { setUser(undefined); setLoading(false); } },
    );
    return () => { live = false; };
  }, [version]);

  const signIn = useCallback(() => {
    void beginSignIn(`${window.location.pathname}${window.location.search}`);
  }, []);
  const signOut = useCallback(async () => {
    await revokeAndForget();
    setUser(undefined);
    setProblem(undefined);
    setVersion((v) => v + 1);
  }, []);

  const value = useMemo<Session>(() => ({
    user,
    loading,
    problem,
    signIn,
    signOut,
  }), [user, loading, problem, signIn, signOut]);
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside SessionProvider');
  return session;
}
