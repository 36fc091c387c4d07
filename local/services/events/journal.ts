/**
 * The bus's delivery journal: every delivery of an accepted event to a rule target, from before
 * PutEvents answers until the delivery has ended (delivered, dead-lettered or given up), with the
 * retry attempts it has used. After a crash the bus resumes each one with the budget it had left
 * (MaximumRetryAttempts, MaximumEventAgeInSeconds from when the event was received), so an event
 * EventBridge accepted is delivered at least once, as on AWS.
 *
 * DURABILITY: `<stateDir>/events/deliveries.db`, SQLite in WAL mode with synchronous FULL: a
 * delivery is committed (and fsync'ed) before PutEvents returns, so it survives a SIGKILL and a
 * power loss. Its end is committed after the target accepted the event; a crash in between
 * delivers it again (targets see at-least-once delivery, as on AWS). A delivery to a Step
 * Functions target ends when the execution has finished, so an Express execution a crash cut
 * short is started again. Without a state folder the journal lives in memory (SQLite's
 * `:memory:`), so deliveries accepted before the bus has its senders still wait for them.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';

/** A delivery that has not ended. */
export interface JournaledDelivery {
  id: number;
  /** The event as JSON text. */
  event: string;
  ruleArn: string;
  targetId: string;
  /** When the bus received the event (ms since the epoch): MaximumEventAgeInSeconds counts from it. */
  receivedAt: number;
  /** Attempts already made and failed. */
  attempts: number;
}

export class DeliveryJournal {
  /** How many deliveries a previous run left unfinished. */
  readonly inherited: number;
  private readonly db: DatabaseSync;
  private readonly statements: { add: StatementSync; attempted: StatementSync; remove: StatementSync; pending: StatementSync };

  /** A journal in `<stateDir>/events/`, or in memory when `stateDir` is undefined. */
  constructor(stateDir: string | undefined) {
    if (stateDir === undefined) {
      this.db = new DatabaseSync(':memory:');
    } else {
      const dir = join(stateDir, 'events');
      mkdirSync(dir, { recursive: true });
      this.db = new DatabaseSync(join(dir, 'deliveries.db'));
      this.db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;');
    }
    this.db.exec(`CREATE TABLE IF NOT EXISTS deliveries (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      event TEXT NOT NULL,
      rule_arn TEXT NOT NULL,
      target_id TEXT NOT NULL,
      received_at INTEGER NOT NULL,
      attempts INTEGER NOT NULL DEFAULT 0
    )`);
    this.statements = {
      add: this.db.prepare('INSERT INTO deliveries (event, rule_arn, target_id, received_at) VALUES (?, ?, ?, ?)'),
      attempted: this.db.prepare('UPDATE deliveries SET attempts = ? WHERE id = ?'),
      remove: this.db.prepare('DELETE FROM deliveries WHERE id = ?'),
      pending: this.db.prepare('SELECT id, event, rule_arn, target_id, received_at, attempts FROM deliveries ORDER BY id'),
    };
    this.inherited = Number((this.db.prepare('SELECT COUNT(*) AS count FROM deliveries').get() as { count: number }).count);
  }

  /** Records the deliveries of one PutEvents call in one transaction; returns their ids. */
  add(deliveries: ReadonlyArray<Omit<JournaledDelivery, 'id' | 'attempts'>>): number[] {
    const { add } = this.statements;
    this.db.exec('BEGIN');
    try {
      const ids = deliveries.map(({ event, ruleArn, targetId, receivedAt }) => Number(add.run(event, ruleArn, targetId, receivedAt).lastInsertRowid));
      this.db.exec('COMMIT');
      return ids;
    } catch (error) {
      this.db.exec('ROLLBACK');
      throw error;
    }
  }

  /** Records that a delivery has used `attempts` attempts. */
  attempted(id: number, attempts: number): void {
    this.statements.attempted.run(attempts, id);
  }

  /** Ends a delivery. */
  remove(id: number): void {
    this.statements.remove.run(id);
  }

  /** The deliveries that had not ended, oldest first. */
  pending(): JournaledDelivery[] {
    const rows = this.statements.pending.all() as Array<Record<string, string | number>>;
    return rows.map((row) => ({
      id: Number(row.id),
      event: String(row.event),
      ruleArn: String(row.rule_arn),
      targetId: String(row.target_id),
      receivedAt: Number(row.received_at),
      attempts: Number(row.attempts),
    }));
  }

  close(): void {
    this.db.close();
  }
}
