import { describe, expect, it } from 'vitest';
import { activityFromRecord, readCsvRecords } from '../../../shared/adapters/marketo/export-csv.js';

const HEADER =
  'marketoGUID,leadId,activityDate,activityTypeId,campaignId,primaryAttributeValueId,primaryAttributeValue,attributes\n';
// The guide's example row shape (bulk-activity-extract.md): attributes as a quoted JSON object.
const ROW1 =
  '783957693,5414087,2022-02-13T14:06:20Z,104,8497,1670,"Membership, ""Test""\n1","{""Reason"":""line one\\nline two"",""Program Member ID"":3240303,""Success"":false}"\n';
const ROW2 = '783958220,5414094,2022-02-13T14:08:50Z,2,null,null,Café form,null\n';
const FILE = Buffer.from(HEADER + ROW1 + ROW2, 'utf8');

describe('readCsvRecords', () => {
  it('reads quoted commas, doubled quotes and line breaks inside a field', () => {
    const { records, consumed } = readCsvRecords(FILE, true);
    expect(records).toHaveLength(3);
    expect(records[1]?.[6]).toBe('Membership, "Test"\n1');
    expect(records[1]?.[7]).toBe(
      '{"Reason":"line one\\nline two","Program Member ID":3240303,"Success":false}',
    );
    expect(consumed).toBe(FILE.length);
  });

  it('stops at the last complete record of a range, at any cut, and resumes there without loss', () => {
    for (let cut = 1; cut < FILE.length; cut++) {
      const first = readCsvRecords(FILE.subarray(0, cut), false);
      const rest = readCsvRecords(FILE.subarray(first.consumed), true);
      expect([...first.records, ...rest.records]).toEqual(readCsvRecords(FILE, true).records);
    }
  });

  it('resumes a CRLF file at any cut (a range ending between CR and LF adds no empty record)', () => {
    const crlf = Buffer.from(FILE.toString('utf8').replace(/\n/g, '\r\n'));
    for (let cut = 1; cut < crlf.length; cut++) {
      const first = readCsvRecords(crlf.subarray(0, cut), false);
      const rest = readCsvRecords(crlf.subarray(first.consumed), true);
      expect([...first.records, ...rest.records]).toEqual(readCsvRecords(crlf, true).records);
    }
  });

  it('reads CRLF line ends and a last record without a line break', () => {
    const { records } = readCsvRecords(Buffer.from('a,b\r\n1,"x\r\ny"\r\n2,3'), true);
    expect(records).toEqual([
      ['a', 'b'],
      ['1', 'x\r\ny'],
      ['2', '3'],
    ]);
  });
});

describe('activityFromRecord', () => {
  const columns = readCsvRecords(Buffer.from(HEADER), true).records[0] ?? [];
  const rows = readCsvRecords(Buffer.from(ROW1 + ROW2), true).records;

  it('gives the REST shape: numbers, attributes as name/value pairs in file order, null fields absent', () => {
    expect(activityFromRecord(columns, rows[0] ?? [])).toEqual({
      marketoGUID: '783957693',
      leadId: 5414087,
      activityDate: '2022-02-13T14:06:20Z',
      activityTypeId: 104,
      campaignId: 8497,
      primaryAttributeValueId: 1670,
      primaryAttributeValue: 'Membership, "Test"\n1',
      attributes: [
        { name: 'Reason', value: 'line one\nline two' },
        { name: 'Program Member ID', value: 3240303 },
        { name: 'Success', value: false },
      ],
    });
    expect(activityFromRecord(columns, rows[1] ?? [])).toEqual({
      marketoGUID: '783958220',
      leadId: 5414094,
      activityDate: '2022-02-13T14:08:50Z',
      activityTypeId: 2,
      primaryAttributeValue: 'Café form',
    });
  });

  it('also reads the Swagger example form of attributes (a JSON array of name/value)', () => {
    const a = activityFromRecord(columns, [
      '1',
      '6',
      '2013-09-26T06:56:35Z',
      '12',
      '11',
      '6',
      'x',
      '[{"name":"Source Type","value":"Web page visit"}]',
    ]);
    expect(a.attributes).toEqual([{ name: 'Source Type', value: 'Web page visit' }]);
  });

  it('refuses an attributes column that is not JSON, saying what to do', () => {
    expect(() =>
      activityFromRecord(columns, ['1', '6', '2013-09-26T06:56:35Z', '12', 'null', 'null', 'x', '{oops']),
    ).toThrow(/re-create the export job/);
  });
});
