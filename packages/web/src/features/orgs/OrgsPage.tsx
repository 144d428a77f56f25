/** The organisations I see (GET /orgs) as a tree with codes and kinds; a child where I may. */
import { useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'wouter';
import { api, type ApiError } from '../../api/client';
import { useApi } from '../../api/hooks';
import { orgKindSchema, type Account, type OrgView } from '@openbms/contract/api';
import { Card, ErrorBox, Spinner } from '../../ui';
import { Field, FormErrorBox, type FormError } from '../../ui/fields';
import { canManage, treeOrder } from './rights';
import './orgs.css';

type Kind = OrgView['kind'];
/** What may be made under a parent (docs/fleet.md): a platform only as a root, nothing under a customer. */
const CHILD_KINDS = orgKindSchema.enum.filter((k) => k !== 'platform');

export default function OrgsPage(): ReactNode {
  const { t } = useTranslation('orgs');
  const orgs = useApi<OrgView[]>('/orgs');
  const account = useApi<Account>('/auth/account');
  const list = treeOrder(orgs.data ?? []);
  const top = Math.min(...list.map((o) => o.depth));
  const parents = list.filter((o) => o.kind !== 'customer' && canManage(list, account.data, o.id));
  const mine = (id: string) => account.data?.memberships.find((m) => m.org_id === id)?.role;
  return (
    <div className="page" data-testid="orgs">
      <h1>{t('title')}</h1>
      <p className="muted">
        {t('intro')} <Link href="/plants">{t('plants:title')}</Link>
      </p>
      <ErrorBox error={orgs.error} />
      {orgs.loading && !orgs.data && <Spinner />}
      {orgs.data && (
        <Card>
          {list.length === 0 ? (
            <p>{t('none')}</p>
          ) : (
            <div className="table-wrap">
              <table className="org-tree">
                <thead>
                  <tr>
                    <th>{t('name')}</th>
                    <th>{t('kind')}</th>
                    <th>{t('code')}</th>
                    <th>{t('myRole')}</th>
                  </tr>
                </thead>
                <tbody>
                  {list.map((o) => {
                    const role = mine(o.id);
                    return (
                      <tr key={o.id} data-testid={`org-${o.code}`}>
                        <td style={{ paddingLeft: `${0.5 + (o.depth - top) * 1.25}rem` }}>
                          <Link href={`/orgs/${encodeURIComponent(o.id)}`}>{o.name}</Link>
                        </td>
                        <td>{t(`kinds.${o.kind}`)}</td>
                        <td>
                          <code>{o.code}</code>
                        </td>
                        <td>{role ? t(`roles.${role}`) : ''}</td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
          )}
        </Card>
      )}
      {parents.length > 0 && <CreateOrg parents={parents} onCreated={orgs.reload} />}
      {parents.length > 0 && <CreateCustomer parents={parents} onCreated={orgs.reload} />}
    </div>
  );
}

function CreateOrg(props: { parents: OrgView[]; onCreated: () => void }): ReactNode {
  const { t } = useTranslation('orgs');
  const [parent, setParent] = useState(props.parents[0]!.id);
  const [name, setName] = useState('');
  const [kind, setKind] = useState<Kind>('customer');
  const [error, setError] = useState<FormError>(undefined);
  const [done, setDone] = useState<string | undefined>(undefined);
  return (
    <Card title={t('create')} testId="create-org">
      <form
        className="org-create"
        onSubmit={async (e) => {
          e.preventDefault();
          setError(undefined);
          setDone(undefined);
          try {
            const r = await api<{ id: string; code: string }>('/orgs', {
              body: { parent_id: parent, name: name.trim(), kind },
            });
            setDone(t('created', { name: name.trim(), code: r.code }));
            setName('');
            props.onCreated();
          } catch (err) {
            setError(err as ApiError);
          }
        }}
      >
        <label className="field">
          <span>{t('parent')}</span>
          <select
            name="parent_id"
            value={parent}
            aria-invalid={error?.field === 'parent_id' || undefined}
            onChange={(e) => setParent(e.target.value)}
          >
            {props.parents.map((o) => (
              <option key={o.id} value={o.id}>
                {o.name} ({o.code})
              </option>
            ))}
          </select>
        </label>
        <Field
          label={t('name')}
          field="name"
          error={error}
          maxLength={100}
          value={name}
          onChange={(e) => setName(e.target.value)}
          required
        />
        <label className="field">
          <span>{t('kind')}</span>
          <select
            name="kind"
            value={kind}
            aria-invalid={error?.field === 'kind' || undefined}
            onChange={(e) => setKind(e.target.value as Kind)}
          >
            {CHILD_KINDS.map((k) => (
              <option key={k} value={k}>
                {t(`kinds.${k}`)}
              </option>
            ))}
          </select>
        </label>
        <FormErrorBox error={error} fields={['name']} />
        {done && (
          <p className="notice" data-testid="org-created">
            {done}
          </p>
        )}
        <button type="submit" className="primary" data-testid="create-org-submit">
          {t('createButton')}
        </button>
      </form>
    </Card>
  );
}

/**
 * Seed 002 §7.5 "group users add customer accounts": a customer organisation under one I manage
 * and its login (user name, password, phone) in one step (POST /orgs/:id/customers).
 */
function CreateCustomer(props: { parents: OrgView[]; onCreated: () => void }): ReactNode {
  const { t } = useTranslation('orgs');
  const [parent, setParent] = useState(props.parents[0]!.id);
  const [form, setForm] = useState({ name: '', username: '', password: '', phone: '', email: '' });
  const [error, setError] = useState<FormError>(undefined);
  const [done, setDone] = useState<string | undefined>(undefined);
  const set = (k: keyof typeof form) => (e: { target: { value: string } }) =>
    setForm({ ...form, [k]: e.target.value });
  return (
    <Card title={t('customer.title')} testId="create-customer">
      <p className="muted">{t('customer.intro')}</p>
      <form
        className="org-create"
        onSubmit={async (e) => {
          e.preventDefault();
          setError(undefined);
          setDone(undefined);
          const phone = form.phone.trim();
          const email = form.email.trim();
          try {
            const r = await api<{ login: string }>(
              `/orgs/${encodeURIComponent(parent)}/customers`,
              {
                body: {
                  name: form.name.trim(),
                  username: form.username.trim(),
                  password: form.password,
                  ...(phone ? { phone } : {}),
                  ...(email ? { email } : {}),
                  timezone: Intl.DateTimeFormat().resolvedOptions().timeZone,
                },
              },
            );
            setDone(t('customer.created', { login: r.login }));
            setForm({ name: '', username: '', password: '', phone: '', email: '' });
            props.onCreated();
          } catch (err) {
            setError(err as ApiError);
          }
        }}
      >
        <label className="field">
          <span>{t('parent')}</span>
          <select name="parent" value={parent} onChange={(e) => setParent(e.target.value)}>
            {props.parents.map((o) => (
              <option key={o.id} value={o.id}>
                {o.name} ({o.code})
              </option>
            ))}
          </select>
        </label>
        <Field
          label={t('customer.name')}
          field="name"
          error={error}
          maxLength={100}
          value={form.name}
          onChange={set('name')}
          required
        />
        <Field
          label={t('customer.username')}
          field="username"
          error={error}
          maxLength={64}
          autoComplete="off"
          value={form.username}
          onChange={set('username')}
          required
        />
        <Field
          label={t('customer.password')}
          field="password"
          error={error}
          type="password"
          minLength={8}
          autoComplete="new-password"
          value={form.password}
          onChange={set('password')}
          required
        />
        <Field
          label={t('customer.phone')}
          field="phone"
          error={error}
          type="tel"
          value={form.phone}
          onChange={set('phone')}
        />
        <Field
          label={t('customer.email')}
          field="email"
          error={error}
          type="email"
          value={form.email}
          onChange={set('email')}
        />
        <FormErrorBox error={error} fields={['name', 'username', 'password', 'phone', 'email']} />
        {done && (
          <p className="notice" data-testid="customer-created">
            {done}
          </p>
        )}
        <button type="submit" className="primary" data-testid="create-customer-submit">
          {t('customer.button')}
        </button>
      </form>
    </Card>
  );
}
