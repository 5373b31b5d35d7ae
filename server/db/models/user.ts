import { type InferSchemaType, Schema } from 'mongoose';

export const ROLES = ['admin', 'agent'] as const;
export type Role = (typeof ROLES)[number];

/** Staff account. `_id` derives from the lower-cased email, which makes emails unique. */
export const userSchema = new Schema(
  {
    email: { type: String, required: true, lowercase: true, trim: true },
    name: { type: String, required: true },
    role: { type: String, enum: ROLES, required: true },
    /** argon2id; never selected unless asked for. */
    passwordHash: { type: String, required: true, select: false },
    failedLogins: { type: Number, default: 0 },
    lockedUntil: { type: Date, default: null },
    disabledAt: { type: Date, default: null },
    lastLoginAt: { type: Date, default: null },
  },
  { timestamps: true },
);

userSchema.index({ role: 1 });

export type User = InferSchemaType<typeof userSchema>;
