/**
 * Sites: the websites that embed the widget, each with its public key, allowed origins, theme,
 * handoff threshold and embed snippet (with Copy); add a site, edit one in place.
 */
import { useRef, useState } from 'preact/hooks';
import type { SiteView } from '../admin-api.js';
import { type SiteField, type SiteForm, siteFormFrom, siteRequest } from '../admin-forms.js';
import { errorMessage } from '../api.js';
import { AdminPage, describedBy, Field, Loaded, StatusBadge, TextField } from '../components/admin.js';
import { formatPercent } from '../format.js';
import { useAdminApi, useResource } from '../hooks.js';

export function SitesPage() {
  const admin = useAdminApi();
  const [resource, reload] = useResource(() => admin.sites());
  const [adding, setAdding] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const addButton = useRef<HTMLButtonElement>(null);

  return (
    <AdminPage
      title="Sites"
      focusKey="sites"
      intro="Websites that embed the chat widget. The widget runs only on a site's listed origins."
      actions={
        adding ? null : (
          <button type="button" class="primary" ref={addButton} onClick={() => setAdding(true)}>
            Add a site
          </button>
        )
      }
    >
      <p class="notice-line" role="status">
        {notice}
      </p>
      {adding ? (
        <section class="panel" aria-labelledby="add-site-title">
          <h2 id="add-site-title">Add a site</h2>
          <SiteEditor
            site={null}
            onCancel={() => setAdding(false)}
            onSaved={(site) => {
              setAdding(false);
              setNotice(`Site ${site.name} added. Paste its snippet into the site's pages.`);
              reload();
            }}
          />
        </section>
      ) : null}
      <Loaded
        resource={resource}
        reload={reload}
        what="sites"
        isEmpty={(sites) => sites.length === 0}
        empty="No sites yet. Add one to get its embed snippet."
      >
        {(sites) => (
          <ul class="site-list">
            {sites.map((site) => (
              <SiteCard
                key={site.id}
                site={site}
                onSaved={(saved) => {
                  setNotice(`Site ${saved.name} saved.`);
                  reload();
                }}
              />
            ))}
          </ul>
        )}
      </Loaded>
    </AdminPage>
  );
}

function SiteCard({ site, onSaved }: { site: SiteView; onSaved: (site: SiteView) => void }) {
  const [editing, setEditing] = useState(false);
  const [copied, setCopied] = useState<string | null>(null);
  const snippetRef = useRef<HTMLPreElement>(null);
  const titleId = `site-${site.id}`;

  const copy = async () => {
    try {
      await navigator.clipboard.writeText(site.snippet);
      setCopied('Copied.');
    } catch {
      // No clipboard permission: select the snippet so Ctrl+C copies it.
      const range = document.createRange();
      if (snippetRef.current) range.selectNodeContents(snippetRef.current);
      const selection = getSelection();
      selection?.removeAllRanges();
      selection?.addRange(range);
      setCopied('Selected: press Ctrl+C (⌘C) to copy.');
    }
  };

  return (
    <li class="panel site-card" data-site={site.name} aria-labelledby={titleId}>
      <div class="site-head">
        <h2 id={titleId}>{site.name}</h2>
        {site.disabled ? <StatusBadge status="disabled" /> : null}
        {!editing ? (
          <button type="button" class="push-right" onClick={() => setEditing(true)}>
            Edit<span class="visually-hidden"> {site.name}</span>
          </button>
        ) : null}
      </div>
      {editing ? (
        <SiteEditor
          site={site}
          onCancel={() => setEditing(false)}
          onSaved={(saved) => {
            setEditing(false);
            onSaved(saved);
          }}
        />
      ) : (
        <>
          <dl class="facts">
            <dt>Public key</dt>
            <dd class="mono">{site.publicKey}</dd>
            <dt>Origins</dt>
            <dd class="mono">{site.origins.join(', ')}</dd>
            <dt>Theme</dt>
            <dd>
              <span class="mono">{site.theme.primaryColor}</span> on{' '}
              <span class="mono">{site.theme.backgroundColor}</span>, launcher {site.theme.launcherIcon} at
              the {site.theme.position}
            </dd>
            <dt>Hands over</dt>
            <dd>
              {site.handoffThreshold === 0
                ? 'never on low confidence'
                : `below ${formatPercent(site.handoffThreshold, 0)} confidence`}
            </dd>
          </dl>
          <div class="snippet">
            <div class="snippet-head">
              <h3>Embed snippet</h3>
              <button type="button" onClick={() => void copy()}>
                Copy<span class="visually-hidden"> the snippet of {site.name}</span>
              </button>
              <span class="hint" role="status">
                {copied}
              </span>
            </div>
            <pre ref={snippetRef}>
              <code>{site.snippet}</code>
            </pre>
          </div>
        </>
      )}
    </li>
  );
}

function SiteEditor({
  site,
  onCancel,
  onSaved,
}: {
  site: SiteView | null;
  onCancel: () => void;
  onSaved: (site: SiteView) => void;
}) {
  const admin = useAdminApi();
  const [form, setForm] = useState<SiteForm>(() => siteFormFrom(site));
  const [errors, setErrors] = useState<Partial<Record<SiteField, string>>>({});
  const [serverError, setServerError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const prefix = site ? `edit-${site.id}` : 'new-site';

  const set = <K extends SiteField>(field: K, value: SiteForm[K]) => {
    setForm((current) => ({ ...current, [field]: value }));
    if (errors[field]) setErrors((current) => ({ ...current, [field]: undefined }));
  };

  const submit = async (event: Event) => {
    event.preventDefault();
    if (busy) return;
    const result = siteRequest(form, site);
    if (!result.ok) {
      setErrors(result.errors);
      const first = Object.keys(result.errors)[0];
      if (first) document.getElementById(`${prefix}-${first}`)?.focus();
      return;
    }
    setErrors({});
    setServerError(null);
    if (site && Object.keys(result.value).length === 0) {
      onCancel();
      return;
    }
    setBusy(true);
    try {
      const saved = site
        ? await admin.updateSite(site.name, result.value)
        : await admin.addSite({ ...result.value, name: result.value.name!, origins: result.value.origins! });
      onSaved(saved);
    } catch (failure) {
      setServerError(errorMessage(failure));
      setBusy(false);
    }
  };

  const colour = (
    field: 'primaryColor' | 'primaryTextColor' | 'backgroundColor' | 'textColor',
    label: string,
  ) => {
    const id = `${prefix}-${field}`;
    const hex = /^#[0-9a-f]{6}$/i.test(form[field]) ? form[field] : '#000000';
    return (
      <Field id={id} label={label} error={errors[field]}>
        <div class="colour-input">
          <input
            type="color"
            value={hex}
            aria-label={`${label}: pick`}
            onInput={(event) => set(field, event.currentTarget.value)}
          />
          <input
            {...describedBy(id, errors[field], false)}
            type="text"
            spellcheck={false}
            value={form[field]}
            onInput={(event) => set(field, event.currentTarget.value)}
          />
        </div>
      </Field>
    );
  };

  return (
    <form class="admin-form" onSubmit={(event) => void submit(event)} noValidate>
      <div class="form-grid">
        {site ? null : (
          <TextField
            id={`${prefix}-name`}
            label="Name"
            help="Short and permanent: the site's chats become the source widget:name."
            error={errors.name}
            autocomplete="off"
            value={form.name}
            onValue={(value) => set('name', value)}
          />
        )}
        <Field
          id={`${prefix}-origins`}
          label="Origins"
          help="One per line, scheme and host (and port): https://shop.example"
          error={errors.origins}
        >
          <textarea
            {...describedBy(`${prefix}-origins`, errors.origins)}
            rows={3}
            spellcheck={false}
            value={form.origins}
            onInput={(event) => set('origins', event.currentTarget.value)}
          />
        </Field>
        <TextField
          id={`${prefix}-handoffThreshold`}
          label="Handoff threshold"
          help="A bot reply less confident than this (0 to 1) hands the chat to a person; 0 never does."
          error={errors.handoffThreshold}
          inputMode="decimal"
          value={form.handoffThreshold}
          onValue={(value) => set('handoffThreshold', value)}
        />
      </div>
      <fieldset class="theme-fieldset">
        <legend>Theme</legend>
        <div class="form-grid">
          {colour('primaryColor', 'Accent colour')}
          {colour('primaryTextColor', 'Text on the accent')}
          {colour('backgroundColor', 'Background')}
          {colour('textColor', 'Text')}
          <Field id={`${prefix}-position`} label="Position">
            <select
              id={`${prefix}-position`}
              value={form.position}
              onChange={(event) => set('position', event.currentTarget.value as SiteForm['position'])}
            >
              <option value="right">Bottom right</option>
              <option value="left">Bottom left</option>
            </select>
          </Field>
          <Field id={`${prefix}-launcherIcon`} label="Launcher icon">
            <select
              id={`${prefix}-launcherIcon`}
              value={form.launcherIcon}
              onChange={(event) => set('launcherIcon', event.currentTarget.value as SiteForm['launcherIcon'])}
            >
              <option value="chat">Chat bubble</option>
              <option value="help">Question mark</option>
              <option value="headset">Headset</option>
            </select>
          </Field>
          <TextField
            id={`${prefix}-fontFamily`}
            label="Font"
            help='A CSS font-family list, such as "Inter", sans-serif'
            error={errors.fontFamily}
            value={form.fontFamily}
            onValue={(value) => set('fontFamily', value)}
          />
        </div>
      </fieldset>
      <p class="error form-error" role="alert">
        {serverError}
      </p>
      <div class="actions">
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Saving…' : site ? 'Save changes' : 'Add site'}
        </button>
        <button type="button" onClick={onCancel} disabled={busy}>
          Cancel
        </button>
      </div>
    </form>
  );
}
