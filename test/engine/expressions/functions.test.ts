import { describe, expect, it } from 'vitest';
import { compileExpression, FUNCTION_NAMES, IGNORE_FLOW } from '../../../engine/expressions/index.ts';
import { makeEnv } from './env.ts';

const user = {
  givenName: 'John',
  surname: 'Doe',
  userPrincipalName: 'John.Doe@contoso.com',
  mail: null,
  department: '',
  accountEnabled: true,
  country: 'USA',
  state: 'QLD',
  proxyAddresses: ['smtp:a@x.com', 'SMTP:b@x.com', 'smtp:a@x.com'],
  businessPhones: [],
  telephoneNumber: '',
  mobile: '+91 8887779999',
  userAccountControl: 514,
  extension_costCenter: 'CC-42',
  hireDate: '2012-03-16-07:00',
  lastLogonTimestamp: 129699324000000000,
  unicodeName: 'Zoë Åsa',
};

type Row = [expression: string, expected: unknown];

const evaluate = (expression: string, attributes: Record<string, unknown> = user) =>
  compileExpression(expression).evaluate(makeEnv(attributes));

// One table per function; each row is a fact a mapping author relies on.
const TABLES: Record<string, Row[]> = {
  Append: [
    ['Append([userPrincipalName], ".test")', 'John.Doe@contoso.com.test'],
    ['Append([mail], ".test")', null],
    ['Append("", "x")', 'x'],
    ['Append([unicodeName], "✓")', 'Zoë Åsa✓'],
  ],
  AppRoleAssignmentsComplex: [
    // covered with an environment below; here: no assignments gives no roles
    ['AppRoleAssignmentsComplex([appRoleAssignments])', []],
  ],
  BitAnd: [
    ['BitAnd(&HF, &HF7)', 7],
    ['BitAnd([userAccountControl], 2)', 2],
    ['BitAnd(512, 2)', 0],
    ['BitAnd([missing], 2)', null],
  ],
  CBool: [
    ['CBool([givenName] = "John")', true],
    ['CBool([givenName] = [surname])', false],
    ['CBool(1)', true],
    ['CBool(0)', false],
    ['CBool("TRUE")', true],
    ['CBool([missing])', false],
  ],
  CDate: [
    ['CDate([hireDate])', '3/16/2012 7:00:00 AM'],
    ['CDate("2021-06-30+08:00")', '6/29/2021 4:00:00 PM'],
    ['CDate("2009-06-15T01:45:30-07:00")', '6/15/2009 8:45:30 AM'],
    ['CDate("7/2/2021 3:33:38 PM")', '7/2/2021 3:33:38 PM'],
    ['CDate([missing])', null],
  ],
  Coalesce: [
    ['Coalesce([mail], [userPrincipalName])', 'John.Doe@contoso.com'],
    ['Coalesce([mail], [missing], "fallback")', 'fallback'],
    ['Coalesce([mail], [missing])', null],
    ['Coalesce([department], "x")', ''],
    ['Coalesce([businessPhones], "none")', 'none'],
  ],
  ConvertToBase64: [
    ['ConvertToBase64("Hello world!")', 'SABlAGwAbABvACAAdwBvAHIAbABkACEA'],
    ['ConvertToBase64("")', ''],
    ['ConvertToBase64("ë")', '6wA='],
    ['ConvertToBase64([mail])', null],
  ],
  ConvertToUTF8Hex: [
    ['ConvertToUTF8Hex("Hello world!")', '48656C6C6F20776F726C6421'],
    ['ConvertToUTF8Hex("ë€")', 'C3ABE282AC'],
    ['ConvertToUTF8Hex([mail])', null],
  ],
  Count: [
    ['Count([proxyAddresses])', 3],
    ['Count([businessPhones])', 0],
    ['Count([missing])', 0],
    ['Count([givenName])', 1],
  ],
  CStr: [
    ['CStr(42)', '42'],
    ['CStr([accountEnabled])', 'True'],
    ['CStr([missing])', null],
    ['CStr("x")', 'x'],
  ],
  DateAdd: [
    ['DateAdd("d", 7, CDate([hireDate]))', '3/23/2012 7:00:00 AM'],
    ['DateAdd("d", -10, CDate([hireDate]))', '3/6/2012 7:00:00 AM'],
    ['DateAdd("ww", 2, CDate([hireDate]))', '3/30/2012 7:00:00 AM'],
    ['DateAdd("m", 10, CDate([hireDate]))', '1/16/2013 7:00:00 AM'],
    ['DateAdd("yyyy", 2, CDate([hireDate]))', '3/16/2014 7:00:00 AM'],
    ['DateAdd("m", 1, CDate("2024-01-31"))', '2/29/2024 12:00:00 AM'],
    ['DateAdd("h", 5, CDate("2024-01-31"))', '1/31/2024 5:00:00 AM'],
    ['DateAdd("n", 90, CDate("2024-01-31"))', '1/31/2024 1:30:00 AM'],
    ['DateAdd("s", 61, CDate("2024-01-31"))', '1/31/2024 12:01:01 AM'],
    ['DateAdd("d", 1, [missing])', null],
  ],
  DateDiff: [
    ['DateDiff("d", CDate("2021-08-18+08:00"), CDate("2021-08-31+08:00"))', 13],
    ['DateDiff("d", "8/25/2021 5:41:18 PM", CDate([hireDate]))', -3449],
    ['DateDiff("ww", "8/25/2021 5:41:18 PM", CDate([hireDate]))', -493],
    ['DateDiff("m", "8/25/2021 5:41:18 PM", CDate([hireDate]))', -113],
    ['DateDiff("yyyy", "8/25/2021 5:41:18 PM", CDate([hireDate]))', -9],
    ['DateDiff("d", CDate("2021-08-31+08:00"), CDate("2021-08-31+08:00"))', 0],
    ['DateDiff("h", "2021-08-24", "2021-08-25")', 24],
    ['DateDiff("n", "2021-08-24", "2021-08-25")', 1440],
    ['DateDiff("s", "2021-08-24", "2021-08-25")', 86400],
    ['DateDiff("d", Now(), [missing])', null],
  ],
  DateFromNum: [
    ['DateFromNum(129699324000000000)', '1/1/2012 11:00:00 PM'],
    ['DateFromNum([lastLogonTimestamp])', '1/1/2012 11:00:00 PM'],
    ['DateFromNum([missing])', null],
  ],
  FormatDateTime: [
    ['FormatDateTime("20150123105347.1Z", , "yyyyMMddHHmmss.fZ", "yyyy-MM-dd")', '2015-01-23'],
    ['FormatDateTime("2020-12-31-08:00", , "yyyy-MM-ddzzz", "yyyy-MM-dd")', '2020-12-31'],
    ['FormatDateTime("3/7/2021 01:05:09 PM", , "M/d/yyyy hh:mm:ss tt", "yyyy-MM-ddTHH:mm:ss")', '2021-03-07T13:05:09'],
    ['FormatDateTime("2021-03-07", "yyyy-MM-dd", "dd MMM yyyy")', '07 Mar 2021'],
    ['FormatDateTime("07 March 2021", , "dd MMMM yyyy", "dddd d/M/yy")', 'Sunday 7/3/21'],
    ['FormatDateTime([missing], , "yyyy", "yyyy")', null],
  ],
  Guid: [['Guid()', '00000000-0000-4000-8000-000000000001']],
  IgnoreFlowIfNullOrEmpty: [
    ['IgnoreFlowIfNullOrEmpty([department])', IGNORE_FLOW],
    ['IgnoreFlowIfNullOrEmpty([mail])', IGNORE_FLOW],
    ['IgnoreFlowIfNullOrEmpty([givenName])', 'John'],
    ['ToUpper(IgnoreFlowIfNullOrEmpty([mail]))', IGNORE_FLOW],
    ['IgnoreFlowIfNullOrEmpty(Switch([extension_costCenter], "", "x", "y"))', IGNORE_FLOW],
  ],
  IIF: [
    ['IIF([country]="USA",[country],[department])', 'USA'],
    ['IIF([country]<>"USA","other","us")', 'us'],
    ['IIF([country]="USA",IIF([state]="CA","True","False"),"False")', 'False'],
    ['IIF([userAccountControl] > 512, "big", "small")', 'big'],
    ['IIF([userAccountControl] <= 514, "le", "gt")', 'le'],
    ['IIF([accountEnabled], "on", "off")', 'on'],
    ['IIF([accountEnabled] = "true", "on", "off")', 'on'],
    ['IIF([mail] = "", "no mail", "mail")', 'no mail'],
    ['IIF([missing], "yes", "no")', 'no'],
    ['IIF(IsPresent([mail]), Guid(), "none")', 'none'],
  ],
  InStr: [
    ['InStr("The quick brown fox","quick")', 5],
    ['InStr("repEated","e",3,vbBinaryCompare)', 7],
    ['InStr("repEated","e",3,vbTextCompare)', 4],
    ['InStr("abc","z")', 0],
    ['InStr([mail],"z")', null],
  ],
  IsNull: [
    ['IsNull([mail])', true],
    ['IsNull([missing])', true],
    ['IsNull([department])', false],
  ],
  IsNullOrEmpty: [
    ['IsNullOrEmpty([mail])', true],
    ['IsNullOrEmpty([department])', true],
    ['IsNullOrEmpty([businessPhones])', true],
    ['IsNullOrEmpty([givenName])', false],
  ],
  IsPresent: [
    ['IsPresent([givenName])', true],
    ['IsPresent([department])', false],
    ['IsPresent([mail])', false],
  ],
  IsString: [
    ['IsString([givenName])', true],
    ['IsString([userAccountControl])', false],
    ['IsString([mail])', false],
  ],
  Item: [
    ['Item([proxyAddresses], 1)', 'smtp:a@x.com'],
    ['Item([proxyAddresses], 2)', 'SMTP:b@x.com'],
    ['Item([proxyAddresses], 9)', null],
    ['Item([proxyAddresses], 0)', null],
    ['Item([givenName], 1)', 'John'],
    ['Item([missing], 1)', null],
  ],
  Join: [
    ['Join(", ", "", [surname], [givenName])', 'Doe, John'],
    ['Join(";", [proxyAddresses])', 'smtp:a@x.com;SMTP:b@x.com;smtp:a@x.com'],
    ['Join("", 1000, "x")', '1000x'],
    ['Join(".", [mail], [missing])', null],
    ['Join(" ", [givenName], [unicodeName])', 'John Zoë Åsa'],
  ],
  Left: [
    ['Left("John Doe", 3)', 'Joh'],
    ['Left("John Doe", 0)', ''],
    ['Left("John Doe", -1)', 'John Doe'],
    ['Left("Jo", 5)', 'Jo'],
    ['Left([mail], 2)', ''],
    ['Left("😀ab", 2)', '😀a'],
  ],
  Mid: [
    ['Mid([givenName], 1, 3)', 'Joh'],
    ['Mid("John", 2, 10)', 'ohn'],
    ['Mid("John", 9, 2)', ''],
    ['Mid([mail], 1, 1)', null],
    ['Append(Mid([givenName], 1, 3), Mid([surname], 1, 5))', 'JohDoe'],
  ],
  NormalizeDiacritics: [
    ['NormalizeDiacritics([unicodeName])', 'Zoe Asa'],
    ['NormalizeDiacritics("Zoë")', 'Zoe'],
    ['NormalizeDiacritics("Ærøskøbing Straße Łódź")', 'AEroeskoebing Strasse Lodz'],
    ['NormalizeDiacritics("İstanbul ñandú Čapek")', 'Istanbul nandu Capek'],
    ['NormalizeDiacritics("")', ''],
    ['NormalizeDiacritics([mail])', null],
  ],
  Not: [
    ['Not("True")', false],
    ['Not("False")', true],
    ['Not([accountEnabled])', false],
    ['Not(IsPresent([mail]))', true],
    ['Not([missing])', true],
  ],
  Now: [['Now()', '7/2/2021 3:33:38 PM']],
  NumFromDate: [
    ['NumFromDate("2012-01-01T23:00:00Z")', 129699324000000000],
    [
      'NumFromDate(Join("", FormatDateTime("2020-12-31-08:00", ,"yyyy-MM-ddzzz", "yyyy-MM-dd"), " 23:59:59-08:00"))',
      132539615990000000,
    ],
    ['NumFromDate([missing])', null],
  ],
  PCase: [
    ['PCase("PABLO GONSALVES (SECOND)")', 'Pablo Gonsalves (Second)'],
    ['PCase("PINTO-DE\'SILVA", " \'-")', "Pinto-De'Silva"],
    ['PCase(Join(" ", "GREGORY", "JAMES"))', 'Gregory James'],
    ['PCase("élodie ÅSA")', 'Élodie Åsa'],
    ['PCase([mail])', null],
  ],
  RandomString: [
    // its rules are checked in detail below
    ['IsString(RandomString(8,1,1,1,1))', true],
    ['Count(Split(RandomString(8,1,1,1,1,","), ","))', 1],
  ],
  Redact: [
    ['Redact([userPrincipalName])', 'John.Doe@contoso.com'],
    ['Redact([mail])', null],
  ],
  RemoveDuplicates: [
    ['RemoveDuplicates([proxyAddresses])', ['smtp:a@x.com', 'SMTP:b@x.com']],
    ['RemoveDuplicates([missing])', null],
    ['RemoveDuplicates([givenName])', 'John'],
  ],
  Replace: [
    ['Replace("Product Developer","Product Developer", , , "Software Engineer", , )', 'Software Engineer'],
    ['Replace("jsmith","<username>", , , , , "<username>@contoso.com")', 'jsmith@contoso.com'],
    [
      'Replace("+91 9998887777", , "\\\\+(?<isdCode>\\\\d* )(?<phoneNumber>\\\\d{10})", , "${phoneNumber}", , )',
      '9998887777',
    ],
    ['Replace("+1 (999) 888-7777", , "[()\\\\s-]+", , "", , )', '+19998887777'],
    ['Replace("545 Tremont Street", ,"(?<streetNumber>^\\\\d*)","streetNumber", "888", , )', '888 Tremont Street'],
    ['Replace([userPrincipalName], , "(?<Suffix>@(.)*)", "Suffix", "", , )', 'John.Doe'],
    [
      'Replace([telephoneNumber], , "\\\\+(?<isdCode>\\\\d* )(?<phoneNumber>\\\\d{10})", "phoneNumber" , , [mobile], )',
      '8887779999',
    ],
    [
      'Replace("+1 555", , "\\\\+(?<isdCode>\\\\d* )(?<phoneNumber>\\\\d{10})", "phoneNumber" , , [mobile], )',
      '+1 555',
    ],
    ['Replace("john_doe72", , "[a-zA-Z_]*", , "", , )', '72'],
    ['Replace("john.doe@contoso.com", "@contoso.com", , , "", , )', 'john.doe'],
    ['Replace([mail], "@contoso.com", , , "", , )', null],
    ['Replace([proxyAddresses], "smtp:", , , "", , )', ['a@x.com', 'SMTP:b@x.com', 'a@x.com']],
    ['Replace("ABC", , "(?i)b", , "-", , )', 'A-C'],
    // A pattern that takes a backtracking engine exponential time runs in linear time: nothing to replace.
    [`Replace("${'a'.repeat(45)}", , "(.*a){50}", , "-", , )`, 'a'.repeat(45)],
    ['Replace("aaab", , "^(a+)+b$", , "ok", , )', 'ok'],
  ],
  SelectUniqueValue: [
    ['SelectUniqueValue(Join("@", Join(".", [givenName], [surname]), "contoso.com"), "x")', 'John.Doe@contoso.com'],
    ['SelectUniqueValue([mail], Join("@", "jd", "contoso.com"))', 'jd@contoso.com'],
  ],
  SingleAppRoleAssignment: [['SingleAppRoleAssignment([appRoleAssignments])', null]],
  Split: [
    ['Split("PermissionSetOne,PermissionSetTwo", ",")', ['PermissionSetOne', 'PermissionSetTwo']],
    ['Split([extension_costCenter], "-")', ['CC', '42']],
    ['Split("", ",")', ['']],
    ['Split([mail], ",")', null],
  ],
  StripSpaces: [
    ['StripSpaces(" J o h n ")', 'John'],
    ['StripSpaces("Zoë Åsa")', 'ZoëÅsa'],
    ['StripSpaces([mail])', null],
  ],
  Switch: [
    [
      'Switch([state], "Australia/Sydney", "NSW", "Australia/Sydney","QLD", "Australia/Brisbane", "SA", "Australia/Adelaide")',
      'Australia/Brisbane',
    ],
    ['Switch("WA", "Australia/Sydney", "NSW", "Australia/Sydney","QLD", "Australia/Brisbane")', 'Australia/Sydney'],
    ['Switch("qld", "none", "QLD", "match")', 'none'],
    ['Switch([department], "Default Value", "true", "1", "", "0")', '0'],
    ['Switch([mail], "Default Value", "true", "1", "", "0")', '0'],
    ['Switch([country], , "X", "Y")', null],
  ],
  ToLower: [
    ['ToLower("JOHN.Doe@Contoso.com")', 'john.doe@contoso.com'],
    ['ToLower("İI", "tr-TR")', 'iı'],
    ['ToLower("ÅSA")', 'åsa'],
    ['ToLower([mail])', null],
    [
      'ToLower(Join("@", NormalizeDiacritics(StripSpaces(Join(".", "Zoë", "Van Åsa"))), "contoso.com"))',
      'zoe.vanasa@contoso.com',
    ],
  ],
  ToUpper: [
    ['ToUpper("john")', 'JOHN'],
    ['ToUpper("straße")', 'STRASSE'],
    ['ToUpper("i", "tr-TR")', 'İ'],
    ['ToUpper([mail])', null],
  ],
  Word: [
    ['Word("The quick brown fox",3," ")', 'brown'],
    ['Word("This,string!has&many separators",3,",!&#")', 'has'],
    ['Word("a  b", 2, " ")', 'b'],
    ['Word("The fox", 5, " ")', ''],
    ['Word("The fox", 0, " ")', ''],
    ['Word([mail], 1, " ")', ''],
  ],
};

describe('expression functions (Entra semantics)', () => {
  it('has a table for every function of the expression language, and knows each of them', () => {
    const designList =
      'Append, BitAnd, CBool, CDate, Coalesce, ConvertToBase64, ConvertToUTF8Hex, Count, CStr, DateAdd, DateDiff, ' +
      'DateFromNum, FormatDateTime, Guid, IgnoreFlowIfNullOrEmpty, IIF, InStr, IsNull, IsNullOrEmpty, IsPresent, ' +
      'IsString, Item, Join, Left, Mid, NormalizeDiacritics, Not, Now, NumFromDate, PCase, RandomString, Redact, ' +
      'RemoveDuplicates, Replace, SelectUniqueValue, SingleAppRoleAssignment, AppRoleAssignmentsComplex, Split, ' +
      'StripSpaces, Switch, ToLower, ToUpper, Word';
    const names = designList.split(', ').sort();
    expect(Object.keys(TABLES).sort()).toEqual(names);
    expect([...FUNCTION_NAMES].sort()).toEqual(names);
  });

  for (const [name, rows] of Object.entries(TABLES)) {
    describe(name, () => {
      it.each(rows)('%s → %j', (expression, expected) => {
        expect(evaluate(expression)).toEqual(expected);
      });
    });
  }
});

describe('functions that need the environment', () => {
  const assignments = [
    { role: 'msiam_access' },
    { role: 'Admin', principalId: 'g1' },
    { role: 'Reader', principalId: 'u1' },
    { role: 'Admin', principalId: 'u1' },
  ];

  it('SingleAppRoleAssignment gives the first role that is not Default Access', () => {
    const env = makeEnv({}, { appRoleAssignments: assignments });
    expect(compileExpression('SingleAppRoleAssignment([appRoleAssignments])').evaluate(env)).toBe('Admin');
    const onlyDefault = makeEnv({}, { appRoleAssignments: [{ role: 'msiam_access' }] });
    expect(compileExpression('SingleAppRoleAssignment([appRoleAssignments])').evaluate(onlyDefault)).toBeNull();
  });

  it('AppRoleAssignmentsComplex gives one SCIM role per distinct role, Default Access excluded', () => {
    const env = makeEnv({}, { appRoleAssignments: assignments });
    expect(compileExpression('AppRoleAssignmentsComplex([appRoleAssignments])').evaluate(env)).toEqual([
      { primary: false, type: 'WindowsAzureActiveDirectoryRole', display: 'Admin', value: 'Admin' },
      { primary: false, type: 'WindowsAzureActiveDirectoryRole', display: 'Reader', value: 'Reader' },
    ]);
  });

  it('SelectUniqueValue returns the first candidate the target does not have yet', () => {
    const taken = new Set(['john.doe@contoso.com', 'j.doe@contoso.com']);
    const env = makeEnv(user, { isUnique: (v) => !taken.has(v) });
    const expression = compileExpression(
      'SelectUniqueValue(ToLower(Join("@", Join(".", [givenName], [surname]), "contoso.com")), ToLower(Join("@", Join(".", Mid([givenName], 1, 1), [surname]), "contoso.com")), ToLower(Join("@", Join(".", Mid([givenName], 1, 2), [surname]), "contoso.com")))',
    );
    expect(expression.evaluate(env)).toBe('jo.doe@contoso.com');
  });

  it('SelectUniqueValue fails (so the object is escrowed) when every candidate is taken', () => {
    const env = makeEnv(user, { isUnique: () => false });
    expect(() => compileExpression('SelectUniqueValue("a", "b")').evaluate(env)).toThrow(/no unique value/);
  });

  it('Guid and Now take their values from the environment', () => {
    const env = makeEnv({}, { guid: () => 'fixed-guid', now: () => new Date('2000-01-01T00:00:00Z') });
    expect(compileExpression('Join(" ", Guid(), Now())').evaluate(env)).toBe('fixed-guid 1/1/2000 12:00:00 AM');
  });

  it('RandomString meets its minimum counts, avoids characters and is repeatable for the same random source', () => {
    const expression = compileExpression('RandomString(10,2,2,2,1,"?,")');
    const first = expression.evaluate(makeEnv()) as string;
    expect(first).toHaveLength(10);
    expect(first.replace(/[^0-9]/g, '').length).toBeGreaterThanOrEqual(2);
    expect(first.replace(/[^A-Z]/g, '').length).toBeGreaterThanOrEqual(2);
    expect(first.replace(/[^a-z]/g, '').length).toBeGreaterThanOrEqual(1);
    expect(first.replace(/[A-Za-z0-9]/g, '').length).toBeGreaterThanOrEqual(2);
    expect(first).not.toMatch(/[?,]/);
    expect(expression.evaluate(makeEnv())).toBe(first);
    const six = compileExpression('RandomString(6,3,0,0,3)').evaluate(makeEnv()) as string;
    expect(six).toMatch(/^(?=(?:.*\d){3})(?=(?:.*[a-z]){3})[0-9a-z]{6}$/);
  });

  it('RandomString rejects impossible rules', () => {
    expect(() => compileExpression('RandomString(3,2,2,0,0)').evaluate(makeEnv())).toThrow(/RandomString/);
    expect(() => compileExpression('RandomString(300,0,0,0,0)').evaluate(makeEnv())).toThrow(/256/);
  });

  it('Redact marks the expression so logs can hide its value', () => {
    expect(compileExpression('Redact([userPrincipalName])').redacted).toBe(true);
    expect(compileExpression('ToLower([userPrincipalName])').redacted).toBe(false);
  });
});
