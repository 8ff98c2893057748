import { describe, expect, it } from 'vitest';
import { CREATE, contradicts, DELETE, queryKinds, READ, toolKind, UPDATE, WRITE } from '../src/intent.js';

describe('toolKind', () => {
  it('is the kind of the first name word the verb table knows, past a server prefix', () => {
    expect(toolKind('create_branch')).toBe(CREATE);
    expect(toolKind('slack_get_channel_history')).toBe(READ);
    expect(toolKind('deleteObservations')).toBe(DELETE);
    expect(toolKind('update_issue_title')).toBe(UPDATE);
    expect(toolKind('issue_write')).toBe(WRITE);
    expect(toolKind('create_or_update_file')).toBe(CREATE);
  });

  it('is 0 for a name without a known verb, and for ambiguous verbs left out on purpose', () => {
    expect(toolKind('git_checkout')).toBe(0);
    expect(toolKind('open_nodes')).toBe(0);
    expect(toolKind('sequentialthinking')).toBe(0);
  });
});

describe('queryKinds', () => {
  it('collects every known verb of the query, plurals and inflections folded by the stemmer only', () => {
    expect(queryKinds('delete the stale branches')).toBe(DELETE);
    expect(queryKinds('find the issue and update its title')).toBe(READ | UPDATE);
    expect(queryKinds('Show me open PRs')).toBe(READ);
  });

  it('reads a question that names no verb as a read, and a query without verbs as nothing', () => {
    expect(queryKinds('what did people say in #general')).toBe(READ);
    expect(queryKinds('which branches exist')).toBe(READ);
    expect(queryKinds('the slack thread about the outage')).toBe(0);
    expect(queryKinds('')).toBe(0);
  });
});

describe('contradicts', () => {
  it('holds when every kind the query asks for contradicts the tool kind', () => {
    expect(contradicts(DELETE, CREATE)).toBe(true);
    expect(contradicts(READ, WRITE)).toBe(true);
    expect(contradicts(CREATE, DELETE)).toBe(true);
  });

  it('does not hold for compatible kinds, for a query of several kinds one of which fits, or when a kind is unknown', () => {
    expect(contradicts(CREATE, UPDATE)).toBe(false);
    expect(contradicts(CREATE, WRITE)).toBe(false);
    expect(contradicts(READ | DELETE, READ)).toBe(false);
    expect(contradicts(DELETE | READ, CREATE)).toBe(true);
    expect(contradicts(0, CREATE)).toBe(false);
    expect(contradicts(DELETE, 0)).toBe(false);
  });
});
