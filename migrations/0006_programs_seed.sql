-- Custom migration: the four assistance programs of DOMAIN.md. They are fixed by policy; their
-- amounts are not here but in program_standards, per region and period.
INSERT INTO programs (code, name, name_zh, frequency, what_is_paid, standard_meaning) VALUES
  ('dibao', 'Minimum living allowance (dibao)', '最低生活保障', 'monthly',
   'Monthly: the gap between the local standard and the household''s per-capita income, times its size.',
   'The standard a person a month. A household receives (standard − per-capita monthly income) × its size, never less than zero; financial assets may not exceed assetMultiple standards a member.'),
  ('tekun', 'Support for extremely poor persons (tekun)', '特困人员救助供养', 'monthly',
   'Monthly: a basic living allowance plus a care allowance by self-care ability; scattered (at home) or centralized (in an institution).',
   'The basic living allowance a person a month; the care allowance of the person''s self-care level (careAllowances) is added.'),
  ('temporary_assistance', 'Temporary assistance', '临时救助', 'one_off',
   'One-off grants for an emergency: cash and/or in kind.',
   'The largest one-off cash grant for one emergency.'),
  ('price_subsidy', 'Temporary price subsidy', '价格临时补贴', 'monthly',
   'Monthly: a per-person subsidy to assistance recipients while prices are high.',
   'The subsidy a recipient a month.');
