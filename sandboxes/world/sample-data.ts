/**
 * Sample values the world draws from (names, assets, user agents) and the generated activity mix.
 * Pure data: invented, not vendor facts (emails/domains are the reserved example.* domains).
 */

export const FIRST_NAMES = [
  'James',
  'Mary',
  'Robert',
  'Patricia',
  'John',
  'Jennifer',
  'Michael',
  'Linda',
  'David',
  'Elizabeth',
  'William',
  'Barbara',
  'Richard',
  'Susan',
  'Joseph',
  'Jessica',
  'Thomas',
  'Sarah',
  'Carlos',
  'Karen',
  'Yuki',
  'Haruto',
  'Aiko',
  'Priya',
  'Arjun',
  'Fatima',
  'Omar',
  'Chen',
  'Mei',
  'Lucas',
  'Sofia',
  'Mateo',
  'Emma',
  'Noah',
  'Olivia',
  'Liam',
  'Zoë',
  'François',
];
export const LAST_NAMES = [
  'Smith',
  'Johnson',
  'Williams',
  'Brown',
  'Jones',
  'Garcia',
  'Miller',
  'Davis',
  'Rodriguez',
  'Martinez',
  'Hernandez',
  'Lopez',
  'Wilson',
  'Anderson',
  'Thomas',
  'Taylor',
  'Moore',
  'Tanaka',
  'Suzuki',
  'Sato',
  'Patel',
  'Singh',
  'Kim',
  'Nguyen',
  'Müller',
  'Schmidt',
  "O'Brien",
  'Rossi',
  'Dubois',
  'Silva',
];
export const COMPANY_WORDS = [
  'Acme',
  'Globex',
  'Initech',
  'Umbrella',
  'Stark',
  'Wayne',
  'Hooli',
  'Vandelay',
  'Soylent',
];
export const COMPANY_SUFFIX = ['Inc.', 'LLC', 'Corp.', 'GmbH', 'K.K.', 'Ltd.', 'Group', 'Labs'];
export const DOMAINS = ['example.com', 'example.org', 'example.net'];
export const FORMS = [
  { id: 1001, name: 'Contact Us Form' },
  { id: 1002, name: 'Demo Request' },
  { id: 1003, name: 'Whitepaper Download - Cloud Security' },
  { id: 1004, name: 'Webinar Registration' },
  { id: 1005, name: 'Newsletter Signup' },
];
export const EMAILS = [
  { id: 5001, name: '2026-10 Newsletter.Newsletter Email' },
  { id: 5002, name: '2026-09 Newsletter.Newsletter Email' },
  { id: 5003, name: 'Q4 Product Launch.Launch Announcement' },
  { id: 5004, name: 'Webinar - Zero Trust.Invitation' },
  { id: 5005, name: 'Webinar - Zero Trust.Reminder' },
  { id: 5006, name: 'Nurture - Onboarding.Welcome Email' },
  { id: 5007, name: 'Nurture - Onboarding.Day 7 Tips' },
];
export const LISTS = [
  { id: 301, name: 'Webinar Attendees 2026' },
  { id: 302, name: 'MQL - Enterprise' },
  { id: 303, name: 'Trade Show Leads - SaaStr' },
  { id: 304, name: 'Newsletter Subscribers' },
  { id: 305, name: 'Suppression - Competitors' },
];
export const PAGES = [
  { id: 7001, url: 'www.example.com/pricing' },
  { id: 7002, url: 'www.example.com/product/security' },
  { id: 7003, url: 'www.example.com/blog/zero-trust-explained' },
  { id: 7004, url: 'www.example.com/customers' },
];
export const SALES_SUBJECTS = [
  'Following up on our call',
  'Quick question about your security roadmap',
  'Proposal for Q4',
  'Re: Demo next week',
];
export const WEBINARS = [
  'Zero Trust in Practice',
  'Cloud Security Posture 101',
  'Customer Panel: Scaling SecOps',
];
export const USER_AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Safari/605.1.15',
];

/** Generation weights of the activity mix (Visit Webpage is generated but not enabled by default settings). */
export const ACTIVITY_MIX: [number, number][] = [
  [6, 22],
  [7, 20],
  [10, 14],
  [11, 5],
  [1, 10],
  [2, 5],
  [24, 4],
  [25, 2],
  [22, 8],
  [39, 3],
  [40, 2],
  [41, 1],
  [45, 1],
  [100001, 3],
];
