import { type InferSchemaType, Schema } from 'mongoose';

export const LAUNCHER_ICONS = ['chat', 'help', 'headset'] as const;
export const WIDGET_POSITIONS = ['right', 'left'] as const;

/**
 * A website that embeds the chat widget. `_id` derives from the name, so names are unique; the
 * public key is what the embed snippet carries (it is not a secret: the origin allow-list is
 * what keeps other sites from using it).
 */
export const siteSchema = new Schema(
  {
    name: { type: String, required: true },
    publicKey: { type: String, required: true },
    /** Normalized origins ("https://shop.example", "http://localhost:8080") the widget may run on. */
    origins: { type: [String], default: [] },
    theme: {
      primaryColor: { type: String, default: '#1f5fbf' },
      primaryTextColor: { type: String, default: '#ffffff' },
      backgroundColor: { type: String, default: '#ffffff' },
      textColor: { type: String, default: '#1b1f24' },
      position: { type: String, enum: WIDGET_POSITIONS, default: 'right' },
      launcherIcon: { type: String, enum: LAUNCHER_ICONS, default: 'chat' },
      fontFamily: {
        type: String,
        default: 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif',
      },
    },
    /** Locale ("en", "fr", "pt-BR") -> overrides of the built-in texts (server/sites/default-texts.ts). */
    texts: { type: Schema.Types.Mixed, default: {} },
    defaultLocale: { type: String, default: 'en' },
    /** A bot reply whose confidence is below this hands the conversation to a person; 0 never does. */
    handoffThreshold: { type: Number, default: 0.05, min: 0, max: 1 },
    disabledAt: { type: Date, default: null },
  },
  { timestamps: true, minimize: false },
);

siteSchema.index({ publicKey: 1 });

export type Site = InferSchemaType<typeof siteSchema>;
