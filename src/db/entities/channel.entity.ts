/** The `channels` table: a server's channels, wanted by the operator and joined as observed. */
import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { ChannelUser } from './channel-user.entity.ts';
import { Server } from './server.entity.ts';

export const Channel = defineEntity({
  name: 'Channel',
  tableName: 'channels',
  uniques: [{ name: 'channels_server_id_name_unique', properties: ['server', 'name'] }],
  properties: {
    id: p.integer().primary(),
    server: () => p.manyToOne(Server).deleteRule('cascade'),
    name: p.string().length(255),
    /** Observed: the IRC service reported the channel joined. */
    joined: p.boolean().default(false),
    /** Wanted: the operator wants it joined; false until it is parted, then the row goes. */
    wanted: p.boolean().default(true),
    users: () => p.oneToMany(ChannelUser).mappedBy('channel'),
  },
});

export type Channel = InferEntity<typeof Channel>;
