import { describe, expect, it } from 'vitest';
import { csvField, exportText } from '../../src/node/export.js';
import type { ChatMessage } from '../../src/node/history.js';

const message = (text: string): ChatMessage => ({ seq: 3, id: 'r1', peer: 5, direction: 'in', at: 1, receivedAt: 2, text, status: 'received', editedAt: null, replyTo: null, reason: null });

describe('export', () => {
  it('export - a CSV cell that would start a formula gets a leading quote; plain text and numbers do not', () => {
    const cases: Array<[unknown, string]> = [
      ['=HYPERLINK("http://x","click")', `"'=HYPERLINK(""http://x"",""click"")"`],
      ['+1+1', "'+1+1"],
      ['-2', "'-2"],
      ['@SUM(A1)', "'@SUM(A1)"],
      ['\tlead', "'\tlead"],
      ['\rlead', `"'\rlead"`],
      ['hello = world', 'hello = world'],
      ['Привет', 'Привет'],
      [-5, '-5'],
      [null, ''],
    ];
    for (const [value, cell] of cases) expect(csvField(value), String(value)).toBe(cell);
  });

  it('export - jsonl keeps such a text exactly, csv neutralises it', () => {
    const m = message('=cmd|"/c calc"!A1');
    expect(JSON.parse(exportText('jsonl', [m], 5, 'Ann').trim()).text).toBe('=cmd|"/c calc"!A1');
    expect(exportText('csv', [m], 5, 'Ann')).toContain(`"'=cmd|""/c calc""!A1"`);
  });
});
