import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFullAlignmentCommand } from '../../../cli/commands/optouts.js';
import {
  alignAllOptOuts,
  FULL_CURSOR_ID,
  type FullAlignmentCursor,
} from '../../../shared/optouts/full-alignment.js';
import { reconcileOptOuts } from '../../../shared/optouts/reconcile.js';
import { type Harness, startHarness, uniqueEmail } from './harness.js';

/**
 * The harness world's lead ids start at 1,000: a gap past that reaches the first lead, and ends the
 * walk within the first chunk (3,000 ids).
 */
const ID_GAP = 1500;
const YEAR_AGO = Date.now() - 400 * 86_400_000;

describe('first-enable alignment, optouts --full (embedded default: dynalite + sandboxes + real clients)', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({ people: 60 });
    // The world's seeded changes go through a first night, so the nightly cursor is past them.
    await reconcileOptOuts(h.deps);
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('aligns every opt-out whatever its age (a year-old unsubscribe), resumes after an interruption, and reports', async () => {
    // Prepare: A unsubscribed in Marketo a year ago; their Salesforce Lead and Contact never learnt it.
    const a = uniqueEmail('full.old.marketo');
    const pa = h.person({ email: a, sfLeads: [a], sfContacts: [a.toUpperCase()] });
    h.world.recordLeadChange(pa.leads[0]!.id, { unsubscribed: true, reason: 'Link in email', at: YEAR_AGO });
    // B opted out in Salesforce (ticked in the UI), their two Marketo leads are subscribed.
    const b = uniqueEmail('full.sf');
    const pb = h.person({ email: b, marketoEmails: [b, ` ${b.toUpperCase()}`], sfContacts: [b] });
    h.setSalesforceOptOut('Contact', pb.sfContactIds[0]!, true);
    // A Marketo lead without an email that is unsubscribed: skipped, by reason.
    const noEmail = h.world.createLead({ email: '' });
    h.world.recordLeadChange(noEmail.id, { unsubscribed: true, at: YEAR_AGO });

    const leadIds = Array.from({ length: 4000 }, (_, i) => String(1000 + i));
    const worldLeads = leadIds.flatMap((id) => h.world.findLeads('id', id));
    const unsubscribedBefore = worldLeads.filter((l) => l.unsubscribed && l.email).length;

    // Act 1: an interruption after one chunk (the Marketo walk).
    const interrupted = await alignAllOptOuts(h.deps, { idGap: ID_GAP, maxChunks: 1 });
    const checkpoint = await h.deps.cursors.getValue<{ open?: { marketo: { done: boolean } } }>(
      FULL_CURSOR_ID,
    );
    const bAfterInterruption = pb.leads.map((l) => h.world.lead(l.id)?.unsubscribed);
    // Act 2: the CLI command continues the same run.
    const command = await runFullAlignmentCommand(h.deps, { idGap: ID_GAP });

    // Assess: the interrupted run stopped with its position stored, and the second one went on.
    expect(interrupted.status).toBe('continued');
    expect(checkpoint?.value.open?.marketo.done).toBe(true);
    expect(interrupted.read.salesforce).toBe(0);
    expect(bAfterInterruption).toEqual([false, false]);
    expect(h.sfOptOut('Lead', pa.sfLeadIds[0]!)).toBe(true);
    const summary = command.summary as {
      status: string;
      runId: string;
      read: { marketo: number; salesforce: number };
      marketoLeadsScanned: number;
      aligned: { salesforce: number; marketo: number };
      skipped: Record<string, number>;
      invocations: number;
      failed: number;
    };
    expect(summary.status).toBe('completed');
    expect(summary.runId).toBe(interrupted.runId);
    expect(summary.invocations).toBe(2);
    // Every lead was read once: the continuation did not restart the walk.
    expect(interrupted.marketoScan.leads).toBe(worldLeads.length);
    expect(summary.marketoLeadsScanned).toBe(worldLeads.length);
    expect(summary.read.marketo).toBe(unsubscribedBefore);
    expect(summary.skipped).toEqual({ marketoLeadWithoutEmail: 1 });
    expect(summary.failed).toBe(0);
    expect(summary.aligned.salesforce).toBeGreaterThanOrEqual(2);
    expect(summary.aligned.marketo).toBeGreaterThanOrEqual(2);
    expect(h.sfOptOut('Lead', pa.sfLeadIds[0]!)).toBe(true);
    expect(h.sfOptOut('Contact', pa.sfContactIds[0]!)).toBe(true);
    for (const lead of pb.leads) expect(h.world.lead(lead.id)?.unsubscribed).toBe(true);
    expect(command.lines[0]).toContain('First-enable opt-out alignment');
    expect(command.lines.join('\n')).not.toContain('@');
    // Same policy and history as a night: the year-old opt-out is in A's history with its evidence.
    const history = await h.deps.store.history(a);
    expect(history).toContainEqual(
      expect.objectContaining({
        kind: 'observed',
        verdict: 'optOut',
        source: 'marketo-nightly',
        evidence: expect.objectContaining({ leadId: pa.leads[0]!.id, reason: 'Link in email' }),
      }),
    );
    expect(history.filter((e) => e.kind === 'written').map((e) => e.kind === 'written' && e.cause)).toEqual([
      `full:${interrupted.runId}`,
      `full:${interrupted.runId}`,
    ]);
    expect((await h.deps.runs.get('optouts', interrupted.runId))?.status).toBe('completed');
    console.log('[full] report', JSON.stringify(summary));
  }, 120_000);

  it('a second full run after a completed one starts afresh and writes nothing (already aligned)', async () => {
    const again = await alignAllOptOuts(h.deps, { idGap: ID_GAP });

    expect(again.status).toBe('completed');
    expect(again.invocations).toBe(1);
    expect(again.aligned).toEqual({ salesforce: 0, marketo: 0 });
    expect(again.read.marketo).toBeGreaterThan(0);
  }, 120_000);

  it('a larger --id-gap given to an open run reopens its ended Marketo walk (not ignored)', async () => {
    // Prepare: an open run whose walk ended with the small gap (one chunk: the Marketo side).
    const first = await alignAllOptOuts(h.deps, { idGap: ID_GAP, maxChunks: 1 });
    const ended = await h.deps.cursors.getValue<FullAlignmentCursor>(FULL_CURSOR_ID);

    // Act: the same run, given a gap of 6,000 ids.
    const wider = await alignAllOptOuts(h.deps, { idGap: 6000, maxChunks: 1 });
    const reopened = await h.deps.cursors.getValue<FullAlignmentCursor>(FULL_CURSOR_ID);

    // Assess: the walk went on past where the small gap stopped it, in the same run.
    expect(first.status).toBe('continued');
    expect(ended?.value.open?.marketo.done).toBe(true);
    expect(wider.runId).toBe(first.runId);
    expect(reopened?.value.open?.idGap).toBe(6000);
    expect(wider.marketoScan.idsUpTo).toBeGreaterThan(first.marketoScan.idsUpTo);
    expect(await alignAllOptOuts(h.deps, {})).toMatchObject({ status: 'completed', runId: first.runId });
  }, 120_000);
});
