/** The first schema: servers, channels and channel users. */
import { Migration } from '@mikro-orm/migrations';

export class InitialSchema extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "servers" (
      "id" serial primary key,
      "name" varchar(255) not null,
      "host" varchar(255) not null,
      "port" int not null,
      "nickname" varchar(255) not null,
      "username" varchar(255) null,
      "realname" varchar(255) null,
      "password" varchar(255) null,
      "tls" boolean not null default false,
      "connected_at" timestamptz null,
      "autoconnect" boolean not null default false,
      "created_at" timestamptz not null default now(),
      "updated_at" timestamptz not null default now());`);
    this.addSql(`create index "servers_connected_at_index" on "servers" ("connected_at");`);

    this.addSql(`create table "channels" (
      "id" serial primary key,
      "server_id" int not null,
      "name" varchar(255) not null,
      "joined" boolean not null default false);`);
    this.addSql(`alter table "channels" add constraint "channels_server_id_name_unique" unique ("server_id", "name");`);
    this.addSql(`alter table "channels" add constraint "channels_server_id_foreign" foreign key ("server_id")
      references "servers" ("id") on update cascade on delete cascade;`);

    this.addSql(`create table "channel_users" (
      "id" serial primary key,
      "channel_id" int not null,
      "nickname" varchar(255) not null,
      "modes" text not null default '');`);
    this.addSql(
      `alter table "channel_users" add constraint "channel_users_channel_id_nickname_unique" unique ("channel_id", "nickname");`,
    );
    this.addSql(`alter table "channel_users" add constraint "channel_users_channel_id_foreign" foreign key ("channel_id")
      references "channels" ("id") on update cascade on delete cascade;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "channel_users" cascade;`);
    this.addSql(`drop table if exists "channels" cascade;`);
    this.addSql(`drop table if exists "servers" cascade;`);
  }
}
