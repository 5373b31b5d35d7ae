/** Admin-only endpoints: users and the audit log. */
import { ObjectId } from 'mongodb';
import { z } from 'zod';
import { recordAudit } from '../../audit.js';
import type { Endpoint } from '../../auth/policy.js';
import { createUser, presentUser } from '../../auth/users.js';
import type { Models } from '../../db/models/index.js';
import { ROLES } from '../../db/models/user.js';
import { conflict, notFound } from '../../errors.js';
import { parseInput } from './parse.js';

const patchUser = z
  .strictObject({
    role: z.enum(ROLES).optional(),
    disabled: z.boolean().optional(),
    name: z.string().trim().min(1).max(120).optional(),
  })
  .refine((value) => Object.keys(value).length > 0, { error: 'give role, disabled or name' });

const auditQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  action: z
    .string()
    .regex(/^[\w.]+$/)
    .max(80)
    .optional(),
});

const presentListedUser = (user: {
  _id: ObjectId;
  email: string;
  name: string;
  role: 'admin' | 'agent';
  disabledAt?: Date | null;
  lastLoginAt?: Date | null;
}) => ({
  ...presentUser(user),
  disabled: user.disabledAt != null,
  lastLoginAt: user.lastLoginAt?.toISOString() ?? null,
});

export function adminEndpoints(deps: { models: Pick<Models, 'User' | 'AuditEvent'> }): Endpoint[] {
  const { models } = deps;
  return [
    {
      method: 'get',
      path: '/users',
      access: 'admin',
      async handler(_req, res) {
        const users = await models.User.find({}).sort({ email: 1 }).lean();
        res.json({ users: users.map(presentListedUser) });
      },
    },
    {
      method: 'post',
      path: '/users',
      access: 'admin',
      async handler(req, res) {
        const user = await createUser(models, req.body ?? {});
        await recordAudit(models, {
          action: 'user.create',
          actor: req.user!,
          target: { type: 'user', id: user.id },
          details: { email: user.email, role: user.role },
        });
        res.status(201).json({ user });
      },
    },
    {
      method: 'patch',
      path: '/users/:id',
      access: 'admin',
      async handler(req, res) {
        const changes = parseInput(patchUser, req.body);
        const id = String(req.params.id);
        if (!ObjectId.isValid(id) || id.length !== 24) throw notFound('No such user.', 'user_not_found');
        if (id === req.user!.id && (changes.disabled || changes.role === 'agent'))
          throw conflict('You cannot disable yourself or take away your own admin role.', 'self_lockout');
        const set: Record<string, unknown> = {};
        if (changes.role) set.role = changes.role;
        if (changes.name) set.name = changes.name;
        if (changes.disabled !== undefined) set.disabledAt = changes.disabled ? new Date() : null;
        const user = await models.User.findByIdAndUpdate(
          new ObjectId(id),
          { $set: set },
          { returnDocument: 'after' },
        ).lean();
        if (!user) throw notFound('No such user.', 'user_not_found');
        await recordAudit(models, {
          action: 'user.update',
          actor: req.user!,
          target: { type: 'user', id },
          details: changes,
        });
        res.json({ user: presentListedUser(user) });
      },
    },
    {
      method: 'get',
      path: '/audit',
      access: 'admin',
      async handler(req, res) {
        const query = parseInput(auditQuery, req.query);
        const events = await models.AuditEvent.find(query.action ? { action: query.action } : {})
          .sort({ at: -1 })
          .limit(query.limit)
          .lean();
        res.json({
          events: events.map((event) => ({
            id: event._id.toHexString(),
            at: event.at.toISOString(),
            action: event.action,
            actor: { kind: event.actor?.kind ?? null, email: event.actor?.email ?? null },
            target: event.target?.type ? { type: event.target.type, id: event.target.id } : null,
            details: event.details ?? {},
          })),
        });
      },
    },
  ];
}
