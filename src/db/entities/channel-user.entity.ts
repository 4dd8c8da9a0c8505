/** The `channel_users` table: who is in a joined channel, with their modes. */
import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { Channel } from './channel.entity.ts';

export const ChannelUser = defineEntity({
  name: 'ChannelUser',
  tableName: 'channel_users',
  uniques: [{ name: 'channel_users_channel_id_nickname_unique', properties: ['channel', 'nickname'] }],
  properties: {
    id: p.integer().primary(),
    channel: () => p.manyToOne(Channel).deleteRule('cascade'),
    nickname: p.string().length(255),
    modes: p.text().default(''),
  },
});

export type ChannelUser = InferEntity<typeof ChannelUser>;
