/**
 * The Sources page's forms: add a MongoDB source (its connection string is a secret the console
 * never shows again; Test connection checks it first) and change a source's field mapping. A
 * mapping is a shipped one or pasted JSON, checked as JSON here and as a mapping by the server,
 * whose problems are listed. A refused form keeps what was typed.
 */
import { useState } from 'preact/hooks';
import type { SavedSource, ShippedMappingName } from '../admin-api.js';
import {
  type MappingForm,
  mappingFormDefaults,
  mappingProblems,
  mappingRequest,
  SHIPPED_MAPPINGS,
  type SourceField,
  type SourceForm,
  sourceConnection,
  sourceFormDefaults,
  sourceRequest,
} from '../admin-forms.js';
import { errorMessage } from '../api.js';
import { useAdminApi } from '../hooks.js';
import { describedBy, TextField } from './admin.js';

const JSON_PLACEHOLDER = `{
  "shape": "message-per-document",
  "fields": {
    "conversationId": "ticket_id",
    "role": "author_type",
    "text": "body",
    "timestamp": "created_at"
  },
  "roles": { "end_user": "customer", "agent": "agent" }
}`;

/** The server refused the request: its message, and the mapping's problems when it listed them. */
interface Refusal {
  message: string;
  problems: string[] | null;
}

const refusal = (failure: unknown): Refusal => {
  const problems = mappingProblems(failure);
  return problems
    ? { message: 'The server refused the field mapping:', problems }
    : { message: errorMessage(failure), problems: null };
};

function RefusalMessage({ refused }: { refused: Refusal | null }) {
  return (
    <div class="error form-error" role="alert">
      {refused ? (
        <>
          <p>{refused.message}</p>
          {refused.problems ? (
            <ul class="mapping-problems">
              {refused.problems.map((problem) => (
                <li key={problem} class="mono">
                  {problem}
                </li>
              ))}
            </ul>
          ) : null}
        </>
      ) : null}
    </div>
  );
}

/** A shipped mapping or pasted JSON, as two radio choices. */
function MappingFields({
  prefix,
  form,
  error,
  onChange,
}: {
  prefix: string;
  form: MappingForm;
  error: string | undefined;
  onChange: (form: MappingForm) => void;
}) {
  const set = (changes: Partial<MappingForm>) => onChange({ ...form, ...changes });
  const shippedId = `${prefix}-shipped`;
  const jsonId = `${prefix}-json`;
  return (
    <fieldset class="mapping-fieldset">
      <legend>Field mapping</legend>
      <p class="hint">Where the source keeps each message's conversation, author role, text and time.</p>
      <div class="mapping-choice">
        <label class="check">
          <input
            type="radio"
            name={`${prefix}-kind`}
            value="shipped"
            checked={form.kind === 'shipped'}
            onChange={() => set({ kind: 'shipped' })}
          />
          A shipped mapping
        </label>
        <select
          id={shippedId}
          aria-label="Shipped mapping"
          value={form.shipped}
          disabled={form.kind !== 'shipped'}
          onChange={(event) => set({ shipped: event.currentTarget.value as ShippedMappingName })}
        >
          {SHIPPED_MAPPINGS.map((mapping) => (
            <option key={mapping.name} value={mapping.name}>
              {mapping.name}: {mapping.description}
            </option>
          ))}
        </select>
      </div>
      <div class="mapping-choice">
        <label class="check">
          <input
            type="radio"
            name={`${prefix}-kind`}
            value="json"
            checked={form.kind === 'json'}
            onChange={() => set({ kind: 'json' })}
          />
          My own, as JSON
        </label>
        {form.kind === 'json' ? (
          <>
            <textarea
              {...describedBy(jsonId, error)}
              aria-label="Mapping JSON"
              class="mono mapping-json"
              rows={11}
              spellcheck={false}
              placeholder={JSON_PLACEHOLDER}
              value={form.json}
              onInput={(event) => set({ json: event.currentTarget.value })}
            />
            <p class="hint" id={`${jsonId}-help`}>
              An object with <code>shape</code> (<code>message-per-document</code> or{' '}
              <code>conversation-per-document</code>), <code>fields</code> as dot paths and <code>roles</code>
              : see the README, "Ingesting support logs".
            </p>
            <p class="error field-error" id={`${jsonId}-error`}>
              {error ?? ''}
            </p>
          </>
        ) : null}
      </div>
    </fieldset>
  );
}

type TestResult = { ok: true; message: string } | { ok: false; message: string };

export function AddSourceForm({
  onCancel,
  onAdded,
}: {
  onCancel: () => void;
  onAdded: (source: SavedSource) => void;
}) {
  const admin = useAdminApi();
  const [form, setForm] = useState<SourceForm>(sourceFormDefaults);
  const [errors, setErrors] = useState<Partial<Record<SourceField, string>>>({});
  const [refused, setRefused] = useState<Refusal | null>(null);
  const [tested, setTested] = useState<TestResult | null>(null);
  const [testing, setTesting] = useState(false);
  const [busy, setBusy] = useState(false);
  const prefix = 'new-source';

  const set = <K extends keyof SourceForm>(field: K, value: SourceForm[K]) => {
    setForm((current) => ({ ...current, [field]: value }));
    if (field === 'uri' || field === 'database' || field === 'collection') {
      // A changed connection has not been tested, and a refusal of the old one no longer applies.
      setTested(null);
      if (refused && !refused.problems) setRefused(null);
    }
    const key = (field === 'mapping' ? 'json' : field) as SourceField;
    if (errors[key]) setErrors((current) => ({ ...current, [key]: undefined }));
  };

  const focusFirst = (fieldErrors: Partial<Record<SourceField, string>>) => {
    const first = Object.keys(fieldErrors)[0];
    if (first) document.getElementById(`${prefix}-${first}`)?.focus();
  };

  const test = async () => {
    if (testing) return;
    const connection = sourceConnection(form);
    if (!connection.ok) {
      setErrors((current) => ({ ...current, ...connection.errors }));
      focusFirst(connection.errors);
      return;
    }
    setTesting(true);
    setTested(null);
    try {
      const result = await admin.testSource(connection.value);
      setTested({ ok: true, message: `Connected: ${result.message}` });
    } catch (failure) {
      setTested({ ok: false, message: errorMessage(failure) });
    } finally {
      setTesting(false);
    }
  };

  const submit = async (event: Event) => {
    event.preventDefault();
    if (busy) return;
    const result = sourceRequest(form);
    if (!result.ok) {
      setErrors(result.errors);
      focusFirst(result.errors);
      return;
    }
    setErrors({});
    setRefused(null);
    setBusy(true);
    try {
      onAdded(await admin.addSource(result.value));
    } catch (failure) {
      setRefused(refusal(failure));
      setBusy(false);
    }
  };

  return (
    <form class="admin-form source-form" onSubmit={(event) => void submit(event)} noValidate>
      <div class="form-grid">
        <TextField
          id={`${prefix}-name`}
          label="Name"
          help="Short and permanent: letters, digits, _ . and -."
          error={errors.name}
          autocomplete="off"
          spellcheck={false}
          value={form.name}
          onValue={(value) => set('name', value)}
        />
        <TextField
          id={`${prefix}-uri`}
          label="Connection string"
          help="A secret: Parley keeps it and never shows it again, here or anywhere. mongodb://… or mongodb+srv://…, or self for Parley's own database server."
          error={errors.uri}
          type="password"
          autocomplete="off"
          spellcheck={false}
          value={form.uri}
          onValue={(value) => set('uri', value)}
        />
        <TextField
          id={`${prefix}-database`}
          label="Database"
          error={errors.database}
          autocomplete="off"
          spellcheck={false}
          value={form.database}
          onValue={(value) => set('database', value)}
        />
        <TextField
          id={`${prefix}-collection`}
          label="Collection"
          error={errors.collection}
          autocomplete="off"
          spellcheck={false}
          value={form.collection}
          onValue={(value) => set('collection', value)}
        />
      </div>
      <div class="test-connection">
        <button type="button" onClick={() => void test()} disabled={testing}>
          {testing ? 'Testing…' : 'Test connection'}
        </button>
        <p
          class={`small test-result ${tested ? (tested.ok ? 'ok' : 'error') : ''}`}
          role="status"
          aria-live="polite"
        >
          {tested?.message ?? ''}
        </p>
      </div>
      <MappingFields
        prefix={prefix}
        form={form.mapping}
        error={errors.json}
        onChange={(mapping) => set('mapping', mapping)}
      />
      <RefusalMessage refused={refused} />
      <div class="actions">
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Adding…' : 'Add source'}
        </button>
        <button type="button" onClick={onCancel} disabled={busy}>
          Cancel
        </button>
      </div>
    </form>
  );
}

export function EditMappingForm({
  source,
  onCancel,
  onSaved,
}: {
  source: string;
  onCancel: () => void;
  onSaved: (source: SavedSource) => void;
}) {
  const admin = useAdminApi();
  const [form, setForm] = useState<MappingForm>(mappingFormDefaults);
  const [error, setError] = useState<string | undefined>(undefined);
  const [refused, setRefused] = useState<Refusal | null>(null);
  const [busy, setBusy] = useState(false);
  const prefix = 'edit-mapping';

  const submit = async (event: Event) => {
    event.preventDefault();
    if (busy) return;
    const result = mappingRequest(form);
    if (!result.ok) {
      setError(result.errors.json);
      document.getElementById(`${prefix}-json`)?.focus();
      return;
    }
    setError(undefined);
    setRefused(null);
    setBusy(true);
    try {
      onSaved(await admin.updateSourceMapping(source, result.value));
    } catch (failure) {
      setRefused(refusal(failure));
      setBusy(false);
    }
  };

  return (
    <form class="admin-form" onSubmit={(event) => void submit(event)} noValidate>
      <MappingFields
        prefix={prefix}
        form={form}
        error={error}
        onChange={(next) => {
          setForm(next);
          setError(undefined);
        }}
      />
      <p class="hint">Ingestions from now on read with the new mapping.</p>
      <RefusalMessage refused={refused} />
      <div class="actions">
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Saving…' : 'Save mapping'}
        </button>
        <button type="button" onClick={onCancel} disabled={busy}>
          Cancel
        </button>
      </div>
    </form>
  );
}
