/** The explicit entity list the ORM is configured with. */
import { Channel } from './channel.entity.ts';
import { ChannelUser } from './channel-user.entity.ts';
import { IrcNodeRecord } from './irc-node.entity.ts';
import { Server } from './server.entity.ts';

export { Channel, ChannelUser, IrcNodeRecord, Server };
export const entities = [Server, Channel, ChannelUser, IrcNodeRecord];
