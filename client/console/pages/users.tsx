/** Users: staff accounts; add one, change a role, disable or enable (never yourself). */
import { useState } from 'preact/hooks';
import type { NewUser, UserView } from '../admin-api.js';
import { newUserRequest, type UserField } from '../admin-forms.js';
import { errorMessage } from '../api.js';
import { AdminPage, Field, Loaded, StatusBadge, TextField } from '../components/admin.js';
import { ConfirmDialog } from '../components/confirm-dialog.js';
import { useConsole } from '../context.js';
import { formatDate } from '../format.js';
import { useAdminApi, useResource } from '../hooks.js';

export function UsersPage() {
  const admin = useAdminApi();
  const { user: me } = useConsole();
  const [resource, reload] = useResource(() => admin.users());
  const [notice, setNotice] = useState<string | null>(null);
  const [rowErrors, setRowErrors] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState<string | null>(null);
  const [disabling, setDisabling] = useState<UserView | null>(null);
  const [dialogError, setDialogError] = useState<string | null>(null);

  const change = async (user: UserView, changes: { role?: 'admin' | 'agent'; disabled?: boolean }) => {
    setBusy(user.id);
    setRowErrors(({ [user.id]: _, ...rest }) => rest);
    try {
      const saved = await admin.updateUser(user.id, changes);
      setNotice(
        changes.role
          ? `${saved.name} is now ${saved.role === 'admin' ? 'an admin' : 'an agent'}.`
          : `${saved.name} is ${saved.disabled ? 'disabled' : 'enabled again'}.`,
      );
      reload();
      return true;
    } catch (failure) {
      setRowErrors((current) => ({ ...current, [user.id]: errorMessage(failure) }));
      return false;
    } finally {
      setBusy(null);
    }
  };

  return (
    <AdminPage
      title="Users"
      focusKey="users"
      intro="Who can sign in to the console. Agents answer chats; admins also run everything here."
    >
      <p class="notice-line" role="status">
        {notice}
      </p>
      <Loaded resource={resource} reload={reload} what="users">
        {(users) => (
          <div class="table-wrap">
            <table class="data-table users-table">
              <caption class="visually-hidden">Staff accounts</caption>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Email</th>
                  <th scope="col">Role</th>
                  <th scope="col">Status</th>
                  <th scope="col">Last sign-in</th>
                  <th scope="col">
                    <span class="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {users.map((user) => {
                  const self = user.id === me.id;
                  return (
                    <tr key={user.id} data-email={user.email}>
                      <th scope="row">
                        {user.name}
                        {self ? <span class="hint"> (you)</span> : null}
                      </th>
                      <td>{user.email}</td>
                      <td>
                        <select
                          aria-label={`Role of ${user.name}`}
                          value={user.role}
                          disabled={self || busy === user.id}
                          title={self ? 'You cannot change your own role.' : undefined}
                          onChange={(event) => {
                            const role = event.currentTarget.value as 'admin' | 'agent';
                            void change(user, { role }).then((ok) => {
                              if (!ok) reload();
                            });
                          }}
                        >
                          <option value="agent">Agent</option>
                          <option value="admin">Admin</option>
                        </select>
                      </td>
                      <td>
                        {user.disabled ? (
                          <StatusBadge status="disabled" label="Disabled" />
                        ) : (
                          <StatusBadge status="active" label="Active" />
                        )}
                      </td>
                      <td>{formatDate(user.lastLoginAt)}</td>
                      <td class="row-actions">
                        {self ? null : user.disabled ? (
                          <button
                            type="button"
                            disabled={busy === user.id}
                            onClick={() => void change(user, { disabled: false })}
                          >
                            Enable<span class="visually-hidden"> {user.name}</span>
                          </button>
                        ) : (
                          <button
                            type="button"
                            disabled={busy === user.id}
                            onClick={() => setDisabling(user)}
                          >
                            Disable<span class="visually-hidden"> {user.name}</span>
                          </button>
                        )}
                        {rowErrors[user.id] ? (
                          <p class="error small" role="alert">
                            {rowErrors[user.id]}
                          </p>
                        ) : null}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
      </Loaded>
      <section class="panel" aria-labelledby="add-user-title">
        <h2 id="add-user-title">Add a user</h2>
        <AddUser
          onAdded={(user) => {
            setNotice(`${user.name} can sign in now.`);
            reload();
          }}
        />
      </section>
      <ConfirmDialog
        open={disabling !== null}
        title={`Disable ${disabling?.name ?? ''}?`}
        confirmLabel="Disable"
        danger
        busy={busy !== null}
        error={dialogError}
        onCancel={() => {
          setDisabling(null);
          setDialogError(null);
        }}
        onConfirm={() => {
          if (!disabling) return;
          setDialogError(null);
          void change(disabling, { disabled: true }).then((ok) => {
            if (ok) setDisabling(null);
            else setDialogError('Could not disable the account: see the message in its row.');
          });
        }}
      >
        <p>They cannot sign in until an admin enables the account again.</p>
      </ConfirmDialog>
    </AdminPage>
  );
}

const emptyUser = (): NewUser => ({ email: '', name: '', role: 'agent', password: '' });

function AddUser({ onAdded }: { onAdded: (user: { name: string }) => void }) {
  const admin = useAdminApi();
  const [form, setForm] = useState<NewUser>(emptyUser);
  const [errors, setErrors] = useState<Partial<Record<UserField, string>>>({});
  const [serverError, setServerError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const set = <K extends UserField>(field: K, value: NewUser[K]) => {
    setForm((current) => ({ ...current, [field]: value }));
    if (errors[field]) setErrors((current) => ({ ...current, [field]: undefined }));
  };

  const submit = async (event: Event) => {
    event.preventDefault();
    if (busy) return;
    const result = newUserRequest(form);
    if (!result.ok) {
      setErrors(result.errors);
      const first = Object.keys(result.errors)[0];
      if (first) document.getElementById(`user-${first}`)?.focus();
      return;
    }
    setErrors({});
    setServerError(null);
    setBusy(true);
    try {
      const user = await admin.addUser(result.value);
      setForm(emptyUser());
      onAdded(user);
    } catch (failure) {
      setServerError(errorMessage(failure));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="admin-form" onSubmit={(event) => void submit(event)} noValidate>
      <div class="form-grid">
        <TextField
          id="user-email"
          label="Email"
          error={errors.email}
          type="email"
          autocomplete="off"
          value={form.email}
          onValue={(value) => set('email', value)}
        />
        <TextField
          id="user-name"
          label="Name"
          error={errors.name}
          autocomplete="off"
          value={form.name}
          onValue={(value) => set('name', value)}
        />
        <Field id="user-role" label="Role">
          <select
            id="user-role"
            value={form.role}
            onChange={(event) => set('role', event.currentTarget.value as NewUser['role'])}
          >
            <option value="agent">Agent</option>
            <option value="admin">Admin</option>
          </select>
        </Field>
        <TextField
          id="user-password"
          label="Password"
          help="At least 12 characters. Share it safely; they can use it at once."
          error={errors.password}
          type="password"
          autocomplete="new-password"
          value={form.password}
          onValue={(value) => set('password', value)}
        />
      </div>
      <p class="error form-error" role="alert">
        {serverError}
      </p>
      <div class="actions">
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Adding…' : 'Add user'}
        </button>
      </div>
    </form>
  );
}
