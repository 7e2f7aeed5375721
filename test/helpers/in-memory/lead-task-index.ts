import type { LeadTask, LeadTaskIndex } from '../../../shared/ports/lead-task-index.js';

/** LeadTaskIndex in memory, keyed like the DynamoDB one (lead, activity). */
export class InMemoryLeadTaskIndex implements LeadTaskIndex {
  private readonly tasks = new Map<string, LeadTask>();
  private readUntil: string | undefined;

  async add(tasks: LeadTask[]): Promise<void> {
    for (const t of tasks) this.tasks.set(`${t.leadId}#${t.marketoGUID}`, { ...t });
  }

  async forLeads(leadIds: number[]): Promise<LeadTask[]> {
    const wanted = new Set(leadIds);
    return [...this.tasks.values()].filter((t) => wanted.has(t.leadId)).map((t) => ({ ...t }));
  }

  async remove(tasks: LeadTask[]): Promise<void> {
    for (const t of tasks) this.tasks.delete(`${t.leadId}#${t.marketoGUID}`);
  }

  async deletionsReadUntil(): Promise<string | undefined> {
    return this.readUntil;
  }

  async setDeletionsReadUntil(iso: string): Promise<void> {
    this.readUntil = iso;
  }
}
