/** Who is logged in; the onboarding / login / logout / password flows. */
import {
  createContext,
  useCallback,
  useContext,
  useEffect,
  useState,
  type InputHTMLAttributes,
  type ReactNode,
} from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useLocation } from 'wouter';
import { api, setUnauthorisedHandler, type ApiError } from '../api/client';
import { useApi } from '../api/hooks';
import { live } from '../api/live';
import type {
  Account,
  CaptchaChallenge,
  Me,
  Role,
  SetupStatus,
  SignupTerms,
} from '@openbms/contract/api';
import { ErrorBox } from '../ui';
import { setLanguage } from '../i18n';
import { errorText } from '../i18n/server-text';
import { ResetPage } from '../features/account/ResetPage';
import { SignupPage } from '../features/account/SignupPage';

interface AuthState {
  me: Me | undefined;
  logout: () => Promise<void>;
  /** The session ended elsewhere (log out everywhere): back to the login page. */
  loggedOut: () => void;
  /** True when the user's role is at least `r`. */
  can: (r: Role) => boolean;
}

const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };
const AuthContext = createContext<AuthState>({
  me: undefined,
  logout: async () => undefined,
  loggedOut: () => undefined,
  can: () => false,
});

export const useAuth = (): AuthState => useContext(AuthContext);

/** Set when the admin was just created: the overview then offers "Use the demo" / "Add my battery". */
export const WELCOME_KEY = 'openbms.welcome';

type Phase = 'checking' | 'setup' | 'login' | 'in';

export function AuthGate(props: { children: ReactNode; header: ReactNode }): ReactNode {
  const [phase, setPhase] = useState<Phase>('checking');
  const [captchaMode, setCaptchaMode] = useState<SetupStatus['captcha']>('after_failures');
  const [me, setMe] = useState<Me | undefined>(undefined);
  const [notice, setNotice] = useState<string | undefined>(undefined);
  const [prefill, setPrefill] = useState('');
  const [fatal, setFatal] = useState<ApiError | undefined>(undefined);
  const [location, navigate] = useLocation();
  const { t } = useTranslation('account');

  const check = useCallback(async () => {
    try {
      // GET /setup also says who the session belongs to: no 401 when simply logged out.
      const s = await api<SetupStatus>('/setup');
      setCaptchaMode(s.captcha);
      if (s.needs_setup) return setPhase('setup');
      if (!s.user) return setPhase('login');
      setMe({ ...s.user, via: 'session' });
      setPhase('in');
    } catch (e) {
      setFatal(e as ApiError);
    }
  }, []);

  useEffect(() => {
    setUnauthorisedHandler(() => {
      live.stop();
      setMe(undefined);
      setPhase('login');
    });
    void check();
  }, [check]);

  useEffect(() => {
    if (phase === 'in') live.start();
  }, [phase]);

  const loggedOut = useCallback(() => {
    live.stop();
    setMe(undefined);
    setPhase('login');
  }, []);
  const logout = useCallback(async () => {
    try {
      await api('/auth/logout', { method: 'POST' });
    } finally {
      loggedOut();
    }
  }, [loggedOut]);

  if (fatal)
    return (
      <main className="auth-page">
        <ErrorBox error={fatal} />
      </main>
    );
  if (phase === 'checking') return null;
  if (phase === 'setup')
    return (
      <main className="auth-page">
        {props.header}
        <SetupForm
          onDone={(msg) => {
            // The first visit after creating the admin offers the demo or the owner's battery.
            localStorage.setItem(WELCOME_KEY, '1');
            setNotice(msg);
            setPhase('login');
          }}
        />
      </main>
    );
  if (phase === 'login')
    return (
      <main className="auth-page">
        {props.header}
        {location === '/signup' ? (
          <SignupPage
            onDone={(login) => {
              setNotice(t('signedUp', { login }));
              setPrefill(login);
              navigate('/');
            }}
          />
        ) : location === '/reset' ? (
          <ResetPage
            onDone={() => {
              setNotice(t('resetDone'));
              navigate('/');
            }}
          />
        ) : (
          <LoginForm
            notice={notice}
            username={prefill}
            captchaAlways={captchaMode === 'always'}
            onDone={check}
          />
        )}
      </main>
    );
  return (
    <AuthContext.Provider
      value={{ me, logout, loggedOut, can: (r) => !!me && RANK[me.role] >= RANK[r] }}
    >
      {props.children}
    </AuthContext.Provider>
  );
}

/** The login's captcha (GET /auth/captcha): each challenge answers one attempt. */
function useCaptcha(always: boolean): {
  challenge: CaptchaChallenge | undefined;
  shown: boolean;
  show: () => void;
  refresh: () => void;
  error: ApiError | undefined;
} {
  const [shown, setShown] = useState(always);
  const [challenge, setChallenge] = useState<CaptchaChallenge | undefined>(undefined);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const refresh = useCallback(() => {
    api<CaptchaChallenge>('/auth/captcha').then(
      (c) => {
        setError(undefined);
        setChallenge(c);
      },
      (e: unknown) => setError(e as ApiError),
    );
  }, []);
  useEffect(() => {
    if (shown) refresh();
  }, [shown, refresh]);
  return { challenge, shown, show: () => setShown(true), refresh, error };
}

/** After a login: the account's own language, when it chose one (My account). */
async function applyAccountLanguage(): Promise<void> {
  try {
    const a = await api<Account>('/auth/account');
    if (a.language === 'en' || a.language === 'zh') setLanguage(a.language);
  } catch {
    // A store without profiles: the browser's choice stays.
  }
}

function LoginForm(props: {
  notice?: string;
  username: string;
  captchaAlways: boolean;
  onDone: () => void;
}): ReactNode {
  const { t, i18n } = useTranslation();
  const open = useApi<SignupTerms>('/auth/signup');
  const [username, setUsername] = useState(props.username);
  const [password, setPassword] = useState('');
  const [answer, setAnswer] = useState('');
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const captcha = useCaptcha(props.captchaAlways);
  return (
    <form
      className="card auth-card"
      onSubmit={async (e) => {
        e.preventDefault();
        setBusy(true);
        setError(undefined);
        const c = captcha.shown ? captcha.challenge : undefined;
        try {
          await api('/auth/login', {
            body: {
              username,
              password,
              ...(c && answer ? { captcha_id: c.id, captcha: answer } : {}),
            },
          });
          await applyAccountLanguage();
          props.onDone();
        } catch (err) {
          const ae = err as ApiError;
          setError(ae);
          // The challenge sent is used up, right or wrong: show a new one when one is needed.
          if (ae.captchaRequired) {
            setAnswer('');
            if (captcha.shown) captcha.refresh();
            else captcha.show();
          }
        } finally {
          setBusy(false);
        }
      }}
    >
      <h1>{t('auth.login')}</h1>
      {props.notice && <p className="notice">{props.notice}</p>}
      <Input
        label={t('account:loginName')}
        name="username"
        autoComplete="username"
        value={username}
        onChange={(e) => setUsername(e.target.value)}
        required
        autoFocus
      />
      <Input
        label={t('auth.password')}
        name="password"
        type="password"
        autoComplete="current-password"
        value={password}
        onChange={(e) => setPassword(e.target.value)}
        required
      />
      {captcha.shown && (
        <div className="captcha">
          {captcha.challenge && (
            <img
              className="captcha-image"
              src={`data:image/svg+xml;charset=utf-8,${encodeURIComponent(captcha.challenge.svg)}`}
              alt={t('auth.captchaImage')}
              width={150}
              height={50}
            />
          )}
          <button type="button" onClick={captcha.refresh}>
            {t('auth.captchaRefresh')}
          </button>
          <Input
            label={t('auth.captcha')}
            name="captcha"
            autoComplete="off"
            autoCapitalize="characters"
            spellCheck={false}
            maxLength={16}
            value={answer}
            onChange={(e) => setAnswer(e.target.value)}
            required
          />
          <ErrorBox error={captcha.error} />
        </div>
      )}
      <ErrorBox error={error && errorText(i18n, error)} />
      <button type="submit" className="primary" disabled={busy}>
        {t('auth.login')}
      </button>
      {(open.data?.signup || open.data?.reset) && (
        <p className="auth-links">
          {open.data.signup && (
            <Link href="/signup" data-testid="signup-link">
              {t('account:signupLink')}
            </Link>
          )}
          {open.data.reset && (
            <Link href="/reset" data-testid="reset-link">
              {t('account:forgotLink')}
            </Link>
          )}
        </p>
      )}
    </form>
  );
}

function SetupForm(props: { onDone: (msg: string) => void }): ReactNode {
  const { t } = useTranslation();
  const [username, setUsername] = useState('admin');
  const [password, setPassword] = useState('');
  const [repeat, setRepeat] = useState('');
  const [error, setError] = useState<ApiError | string | undefined>(undefined);
  return (
    <form
      className="card auth-card"
      onSubmit={async (e) => {
        e.preventDefault();
        if (password.length < 8) return setError(t('auth.tooShort'));
        if (password !== repeat) return setError(t('auth.mismatch'));
        try {
          await api('/setup', { body: { username, password } });
          props.onDone(t('auth.setupDone'));
        } catch (err) {
          setError(err as ApiError);
        }
      }}
    >
      <h1>{t('auth.setupTitle')}</h1>
      <p>{t('auth.setupHelp')}</p>
      <Input
        label={t('auth.username')}
        name="username"
        autoComplete="username"
        value={username}
        onChange={(e) => setUsername(e.target.value)}
        required
      />
      <Input
        label={t('auth.password')}
        name="password"
        type="password"
        autoComplete="new-password"
        value={password}
        onChange={(e) => setPassword(e.target.value)}
        required
      />
      <Input
        label={t('auth.repeat')}
        name="repeat"
        type="password"
        autoComplete="new-password"
        value={repeat}
        onChange={(e) => setRepeat(e.target.value)}
        required
      />
      <ErrorBox error={error} />
      <button type="submit" className="primary">
        {t('auth.create')}
      </button>
    </form>
  );
}

/** A labelled input (the forms here are all text and password fields). */
function Input(props: { label: string } & InputHTMLAttributes<HTMLInputElement>): ReactNode {
  const { label, ...input } = props;
  return (
    <label className="field">
      <span>{label}</span>
      <input {...input} />
    </label>
  );
}
